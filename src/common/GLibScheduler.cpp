#include "common/GLibScheduler.hpp"

#include <glib.h>

namespace manifold {
namespace {

class GLibTimer final : public Scheduler::TimerImpl {
public:
    GLibTimer(std::chrono::milliseconds delay, Scheduler::Task task) : task_(std::move(task)) {
        const auto ms = delay.count() < 0 ? 0 : delay.count();
        sourceId_ = g_timeout_add_full(G_PRIORITY_DEFAULT, guint(ms), &GLibTimer::fire, this, nullptr);
    }
    ~GLibTimer() override {
        if (sourceId_) g_source_remove(sourceId_);
    }

private:
    static gboolean fire(gpointer data) noexcept {
        auto* self = static_cast<GLibTimer*>(data);
        self->sourceId_ = 0; // returning G_SOURCE_REMOVE destroys the source
        Scheduler::Task task = std::move(self->task_);
        task(); // may destroy `self`; touch nothing of it afterwards
        return G_SOURCE_REMOVE;
    }

    Scheduler::Task task_;
    guint sourceId_ = 0;
};

} // namespace

Scheduler::Timer GLibScheduler::after(std::chrono::milliseconds delay, Task task) {
    return std::make_unique<GLibTimer>(delay, std::move(task));
}

} // namespace manifold
