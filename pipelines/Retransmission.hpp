// Retransmission.hpp — NACK/RTX on both legs despite two webrtcbin 1.22 defects.
//
// What: (1) decideNackPerStream: webrtcbin decides a new receive jitterbuffer's
// do-retransmission per bundle, not per stream (the last transceiver it finds wins, so
// an Opus m-line switched NACK off for video); this decides it per stream instead.
// (2) RtxSsrcKeeper: webrtcbin announces a new random RTX SSRC for every send stream in
// every offer, while libwebrtc keeps the first one announced and rtprtxsend picks its
// RTX SSRC from whatever map webrtcbin last set; the keeper rewrites our offers to keep
// the first announced RTX SSRC and makes rtprtxsend use it. See ARCHITECTURE.md, "Loss".
// Threads: RtxSsrcKeeper's methods run on the control thread; the probes they install
// run on streaming threads and share only a mutex-guarded map with it.
// Ownership: one RtxSsrcKeeper per PeerSession (a member). decideNackPerStream borrows
// the engine, which outlives every pipeline.
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <map>
#include <memory>
#include <string>

namespace manifold::media {

class WebrtcEngine;

/// Connects to rtpbin's new-jitterbuffer (after webrtcbin's own handler, so this
/// decision holds): NACK on for the video payload types offered to publishers, off for
/// the rest, decided at each stream's first packet.
void decideNackPerStream(GstElement* rtpbin, const WebrtcEngine& engine, const std::string& logTag);

class RtxSsrcKeeper {
public:
    RtxSsrcKeeper();
    ~RtxSsrcKeeper();
    RtxSsrcKeeper(const RtxSsrcKeeper&) = delete;
    RtxSsrcKeeper& operator=(const RtxSsrcKeeper&) = delete;

    /// Rewrites our offer (before set-local-description) so every a=ssrc-group:FID keeps
    /// the RTX SSRC first announced for its stream; streams no longer offered are forgotten.
    void keep(GstSDPMessage* offer);
    /// After webrtcbin applied a description: hands the kept SSRCs to rtprtxsend (found
    /// inside `webrtc` once RTX is negotiated), through a probe on its input that sets
    /// them as its ssrc-map just before a new stream's first packet.
    void apply(GstElement* webrtc, const std::string& logTag);

    struct Shared; // what the probe reads; defined in the .cpp

private:
    std::map<guint32, guint32> kept_; // send SSRC -> RTX SSRC announced first
    std::shared_ptr<Shared> shared_;
};

} // namespace manifold::media
