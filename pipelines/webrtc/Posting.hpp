// Posting.hpp — how webrtcbin's threads hand work to the control thread.
//
// What: an object that receives GStreamer callbacks holds a `std::shared_ptr<T*>` to
// itself (its token) and gives weak copies to the callbacks. post() runs work on the
// control thread only if the object still exists then; the token helpers make the
// heap copies that GLib signal and promise user data need.
// Thread: post() from any thread; the work runs on the control thread.
// Ownership: the object owns its token and resets it first in its destructor.
#pragma once

#include <glib.h>

#include <memory>

#include "common/ControlThread.hpp"

namespace manifold::media {

template <typename T>
using WeakToken = std::weak_ptr<T*>;

/// Runs `fn(object)` on the control thread if the object still exists then.
template <typename T, typename Fn>
void post(const WeakToken<T>& token, Fn fn) {
    // std::function wants a copyable target; the work itself may own move-only handles.
    auto work = std::make_shared<Fn>(std::move(fn));
    postToControlThread([token, work] {
        if (auto alive = token.lock()) (*work)(**alive);
    });
}

/// A heap copy of a weak token for GLib user data, freed by deleteToken/deleteTokenNotify.
template <typename T>
gpointer newToken(const std::shared_ptr<T*>& token) {
    return new WeakToken<T>(token);
}
template <typename T>
void deleteToken(gpointer data, GClosure*) noexcept {
    delete static_cast<WeakToken<T>*>(data);
}
template <typename T>
void deleteTokenNotify(gpointer data) noexcept {
    delete static_cast<WeakToken<T>*>(data);
}

} // namespace manifold::media
