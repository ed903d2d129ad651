#include "common/ControlThread.hpp"

#include <glib.h>

namespace manifold {

void postToControlThread(std::function<void()> fn) {
    auto* task = new std::function<void()>(std::move(fn));
    g_main_context_invoke_full(
        nullptr, G_PRIORITY_DEFAULT,
        [](gpointer data) noexcept -> gboolean {
            (*static_cast<std::function<void()>*>(data))();
            return G_SOURCE_REMOVE;
        },
        task, [](gpointer data) noexcept { delete static_cast<std::function<void()>*>(data); });
}

} // namespace manifold
