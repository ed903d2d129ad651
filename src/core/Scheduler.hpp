// Scheduler.hpp — timers and the clock, as an interface the control layer can be tested with.
//
// What: `after` runs a task once on the control thread after a delay; destroying (or
// cancelling) the returned Timer before it fires guarantees it never runs. `now` is a
// monotonic clock. The app uses GLibScheduler (src/common); tests use a manual clock.
// Thread: control thread only, except `now`, which the media plane also reads on
// streaming threads (GLibScheduler's is the steady clock; the tests' manual clock is
// driven from the one test thread).
// Ownership: the App owns the Scheduler; everything else borrows it. A Timer is owned by
// whoever scheduled it (RAII cancel).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace manifold {

class Scheduler {
public:
    using Clock = std::chrono::steady_clock;
    using Task = std::function<void()>;

    class TimerImpl {
    public:
        virtual ~TimerImpl() = default;
    };
    /// Cancels on destruction. Empty Timer = nothing scheduled.
    using Timer = std::unique_ptr<TimerImpl>;

    virtual ~Scheduler() = default;
    virtual Timer after(std::chrono::milliseconds delay, Task task) = 0;
    virtual Clock::time_point now() const = 0;
};

} // namespace manifold
