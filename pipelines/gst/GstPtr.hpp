// GstPtr.hpp — the media plane's RAII handles for GStreamer objects.
//
// What: GstPtr<T> owns one reference of a GstObject (element, pad, bus); CapsPtr and
// PromisePtr own the mini-objects. `makeElement` creates an element and
// sinks its floating reference, so every element is held the same way.
// Thread: value types; a reference is dropped on the thread that drops the pointer.
// Ownership: each pointer owns one reference.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace manifold::media {

struct GstObjectUnref {
    void operator()(gpointer object) const noexcept {
        if (object) gst_object_unref(object);
    }
};
template <typename T>
using GstPtr = std::unique_ptr<T, GstObjectUnref>;

struct CapsUnref {
    void operator()(GstCaps* caps) const noexcept {
        if (caps) gst_caps_unref(caps);
    }
};
using CapsPtr = std::unique_ptr<GstCaps, CapsUnref>;

struct PromiseUnref {
    void operator()(GstPromise* promise) const noexcept {
        if (promise) gst_promise_unref(promise);
    }
};
using PromisePtr = std::unique_ptr<GstPromise, PromiseUnref>;

template <typename T>
GstPtr<T> adoptGst(T* object) {
    return GstPtr<T>(object);
}

template <typename T>
GstPtr<T> retainGst(T* object) {
    if (object) gst_object_ref(object);
    return GstPtr<T>(object);
}

/// Creates an element (floating reference sunk). Throws std::runtime_error naming the
/// missing plugin when the factory does not exist.
inline GstPtr<GstElement> makeElement(const char* factory, const std::string& name = {}) {
    GstElement* element = gst_element_factory_make(factory, name.empty() ? nullptr : name.c_str());
    if (!element)
        throw std::runtime_error(std::string("GStreamer element '") + factory +
                                 "' is missing; install the GStreamer plugin that provides it");
    return GstPtr<GstElement>(GST_ELEMENT(gst_object_ref_sink(element)));
}

} // namespace manifold::media
