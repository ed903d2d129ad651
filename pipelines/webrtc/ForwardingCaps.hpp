// ForwardingCaps.hpp — caps for the webrtcbin legs of a forwarded stream.
//
// What: forwardingCaps turns a publisher's stream caps into what a subscriber's send
// transceiver and SendPad need (codec fields, payload type, SSRC, header extensions);
// isForceKeyUnit recognises the upstream event a receiver's PLI/FIR becomes.
// Thread: pure functions, any thread. Ownership: the returned caps are the caller's.
#pragma once

#include <gst/gst.h>

#include "pipelines/gst/GstPtr.hpp"

namespace manifold::media {

/// Copies only the fields a receiving transceiver needs from a publisher's stream caps.
/// Format parameters the stream caps lack (webrtcbin 1.22 leaves out H264's
/// profile-level-id) are taken from `offered`, what we offered the publisher for the
/// same payload type.
CapsPtr forwardingCaps(const GstCaps* streamCaps, const GstCaps* offered);

/// True for the GstForceKeyUnit event a receiver's PLI/FIR becomes.
bool isForceKeyUnit(GstEvent* event);

} // namespace manifold::media
