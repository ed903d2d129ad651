// GObjectPtr.hpp — the one place GObject references are dropped.
//
// What: unique_ptr with g_object_unref; `adopt` takes a reference the caller already owns
// (a constructor's return, a (transfer full) getter), `retain` adds one.
// Thread: a value type; GObjects are released on the thread that drops the pointer.
// Ownership: the pointer owns one reference.
#pragma once

#include <glib-object.h>

#include <memory>

namespace manifold {

struct GObjectUnref {
    void operator()(gpointer object) const noexcept {
        if (object) g_object_unref(object);
    }
};

template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

template <typename T>
GObjectPtr<T> adopt(T* object) {
    return GObjectPtr<T>(object);
}

template <typename T>
GObjectPtr<T> retain(T* object) {
    if (object) g_object_ref(object);
    return GObjectPtr<T>(object);
}

} // namespace manifold
