// ManualScheduler.hpp — a Scheduler for tests: time moves only when the test says so.
// Thread: the test's thread. Ownership: owned by the test fixture.
#pragma once

#include <algorithm>
#include <memory>
#include <vector>

#include "core/Scheduler.hpp"

namespace manifold::test {

class ManualScheduler final : public Scheduler {
public:
    Timer after(std::chrono::milliseconds delay, Task task) override {
        auto entry = std::make_shared<Entry>(Entry{now_ + delay, std::move(task), true, seq_++});
        entries_.push_back(entry);
        return std::make_unique<Handle>(entry);
    }
    Clock::time_point now() const override { return now_; }

    /// Moves the clock forward, running every task that falls due, in order.
    void advance(std::chrono::milliseconds by) {
        const auto until = now_ + by;
        for (;;) {
            std::shared_ptr<Entry> next;
            for (auto& e : entries_)
                if (e->live && e->due <= until && (!next || e->due < next->due || (e->due == next->due && e->seq < next->seq)))
                    next = e;
            if (!next) break;
            now_ = std::max(now_, next->due);
            next->live = false;
            Task task = std::move(next->task);
            task();
        }
        now_ = until;
        entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [](auto& e) { return !e->live; }),
                       entries_.end());
    }
    std::size_t pending() const {
        return std::size_t(std::count_if(entries_.begin(), entries_.end(), [](auto& e) { return e->live; }));
    }

private:
    struct Entry {
        Clock::time_point due;
        Task task;
        bool live;
        std::uint64_t seq;
    };
    struct Handle final : TimerImpl {
        explicit Handle(std::shared_ptr<Entry> e) : entry(std::move(e)) {}
        ~Handle() override { entry->live = false; }
        std::shared_ptr<Entry> entry;
    };
    Clock::time_point now_{};
    std::uint64_t seq_ = 0;
    std::vector<std::shared_ptr<Entry>> entries_;
};

} // namespace manifold::test
