// GLibScheduler.hpp — Scheduler on the GLib main loop (the control thread).
//
// What: timers as GSources on the thread-default main context, monotonic clock. A task
// is moved out of its source before it runs, so a task may destroy its own Timer.
// Thread: control thread only (create, fire and cancel all there).
// Ownership: owned by the App; its Timers are owned by whoever scheduled them.
#pragma once

#include "core/Scheduler.hpp"

namespace manifold {

class GLibScheduler final : public Scheduler {
public:
    Timer after(std::chrono::milliseconds delay, Task task) override;
    Clock::time_point now() const override { return Clock::now(); }
};

} // namespace manifold
