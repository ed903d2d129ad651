// LogSink.hpp — routes manifold::log (core, signalling) into GStreamer debug categories.
//
// What: registers manifold-app, manifold-core, manifold-session, manifold-server,
// manifold-auth and manifold-media, and applies --log-level to them unless GST_DEBUG
// already names them. After this, GST_DEBUG=manifold*:5 shows everything at debug.
// Thread: install once on the main thread after gst_init. Ownership: global.
#pragma once

#include <string>

namespace manifold::app {

void installLogSink(const std::string& level);

} // namespace manifold::app
