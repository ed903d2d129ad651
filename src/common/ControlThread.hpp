// ControlThread.hpp — posting work from GStreamer streaming threads to the control thread.
//
// What: `post(fn)` queues `fn` on the GLib main loop's default context (the control
// thread) and returns at once; it never waits. Callers capture a weak reference and check
// it inside `fn` (the object may be gone by the time it runs).
// Thread: `post` from any thread; `fn` runs on the control thread.
// Ownership: the queued function is owned by GLib until it ran.
#pragma once

#include <functional>

namespace manifold {

void postToControlThread(std::function<void()> fn);

} // namespace manifold
