// SdpMids.hpp — which mid each of webrtcbin's transceivers has in our own offer.
//
// What: webrtcbin 1.22 gives a new transceiver its `mid` property only once signalling
// is stable again (after the answer), but the client is told about m-lines in the offer.
// These helpers read the mids from the offer text: transceivers not yet associated with an
// m-line take the offer's remaining m-lines in order, as webrtcbin appends them.
// Threads: the control thread (they read transceiver properties and emit
// get-transceivers).
// Ownership: free functions; nothing is kept.
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <map>
#include <string>

namespace manifold::media {

/// The transceiver's `mid` property, or "" while webrtcbin has not set it.
std::string transceiverMid(GstWebRTCRTPTransceiver* transceiver);

/// The mids the offer `sdp` gave the transceivers of `webrtc` that are not associated
/// with an m-line yet. `tag` prefixes the warning logged if kinds do not line up.
std::map<GstWebRTCRTPTransceiver*, std::string> midsFromOffer(GstElement* webrtc, const std::string& sdp,
                                                                const std::string& tag);

} // namespace manifold::media
