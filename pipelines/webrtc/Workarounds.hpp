// Workarounds.hpp — every webrtcbin 1.22 defect Manifold works around, in one place.
//
// What: each entry names the upstream defect (GStreamer 1.22.0 as Debian 12 ships it)
// and what we do instead. Most live here; the few that are part of a larger mechanism
// are listed with where they are.
//  1. NACK decided per bundle, not per stream (decideNackPerStream): webrtcbin's
//     new-jitterbuffer handler walks every SSRC of the transport and keeps the setting
//     of the last transceiver it finds, so an Opus m-line switched NACK off for video.
//     The same decision turns rtpjitterbuffer's rtx-next-seqnum off (NACK gaps only): it
//     gave up on the next packet a latency after the last one, so the first packet
//     after a publisher's pause was dropped as too late, for every subscriber.
//  2. A new random RTX SSRC in every offer (RtxSsrcKeeper): libwebrtc keeps the first
//     one announced and rtprtxsend picks its RTX SSRC from whatever map webrtcbin last
//     set; we keep the first announced one in our offers and in rtprtxsend.
//  3. A new transceiver's `mid` is set only once signalling is stable again
//     (midsFromOffer): the client is told about m-lines in the offer, so we read them
//     from our own offer.
//  4. RTP before the receive path is linked (guardEarlyRtp): webrtcbin opens a transport
//     when ICE connects but links it to rtpbin only when it applies a description with a
//     receiving m-line; a packet in between returned NOT_LINKED and stopped nicesrc for
//     good. Such packets are dropped until the link exists.
//  5. A sticky TOS event per send m-line (dropTosEvents): the bundle's rtpfunnel re-sends
//     an input's sticky custom events on every change of input, so with interleaved
//     streams it went down the whole send chain on nearly every packet (~15% CPU).
//  6. Offers built from stale sink-pad caps (Sender::applyNextCaps, Negotiator's retry):
//     webrtcbin builds an offer on its own thread from the caps its sink pad last
//     received intersected with the codec preferences; a reused send slot's new caps are
//     applied only between offers, and an offer refused that way is retried.
//  7. Direction cannot change back from inactive (Sender): send slots and receive
//     transceivers are recycled instead of removed.
//  8. Teardown deadlock (WebrtcEngine::retire): stopping a pipeline while webrtcbin's own
//     thread runs an operation we queued deadlocks on its connection lock; the engine's
//     teardown thread waits for the last queued operation first.
//  9. A blocked sink pad until the m-line's input stream is connected (Sender::open):
//     a push into it would stall the publisher's thread, so a consumer opens only when
//     the pad is unblocked.
// 10. SRTCP through an srtpdec that has no RTCP segment yet (segmentSrtcpEarly): with
//     rtcp-mux, srtpdec's rtcp_sink is never linked and RTCP arrives on rtp_sink; the
//     first packet makes srtpdec invent sticky events for rtcp_src, and when that happens
//     while the transport is torn down (rtp_src's events already gone) it calls
//     gst_pad_create_stream_id on an element with two sink pads: "GStreamer-CRITICAL:
//     gst_pad_create_stream_id_internal: assertion 'parent->numsinkpads <= 1' failed"
//     (fixed upstream in 1.22.4, 9103fc3493). rtcp_sink gets stream-start, caps and
//     segment when rtp_sink gets its segment, so srtpdec never invents them.
// Defects of rtpsession itself (session lock dropped inside walks of its sources: CRITICAL
// g_hash_table_foreach) cannot be worked around from outside; Manifold loads a patched
// rtpmanager instead (subprojects/gst-rtpmanager-patched, src/app/GstPlugins.hpp).
// Threads: the probes run on streaming threads and share only mutex-guarded state with
// the control thread; the element-added handlers (4, 10) run on whichever thread
// webrtcbin creates a transport on; every function here is called on the control thread.
// Ownership: one RtxSsrcKeeper per PeerSession (a member); the probes and signal handlers
// own their data (a copy of the log tag).
// decideNackPerStream borrows the engine, which outlives every pipeline.
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>

#include <map>
#include <memory>
#include <string>

namespace manifold::media {

class WebrtcEngine;

/// 1. Connects to rtpbin's new-jitterbuffer (after webrtcbin's own handler, so this
/// decision holds): NACK on for the video payload types offered to publishers, off for
/// the rest, decided at each stream's first packet; NACKs for gaps only (rtx-next-seqnum
/// off); every packet the jitterbuffer drops on arrival posted as a `drop-msg` element
/// message on the pipeline's bus.
void decideNackPerStream(GstElement* rtpbin, const WebrtcEngine& engine, const std::string& logTag);

/// 2.
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

/// 3. The transceiver's `mid` property, or "" while webrtcbin has not set it.
std::string transceiverMid(GstWebRTCRTPTransceiver* transceiver);
/// 3. Updates `mid` of `transceiver`: its property once webrtcbin set it, else what our
/// offer gave it (`fromOffer`, from midsFromOffer), else unchanged.
void learnMid(std::string& mid, GstWebRTCRTPTransceiver* transceiver,
              const std::map<GstWebRTCRTPTransceiver*, std::string>& fromOffer);
/// 3. The mids the offer `sdp` gave the transceivers of `webrtc` that are not associated
/// with an m-line yet (they take the offer's remaining m-lines in order, as webrtcbin
/// appends them). `tag` prefixes the warning logged if kinds do not line up.
std::map<GstWebRTCRTPTransceiver*, std::string> midsFromOffer(GstElement* webrtc, const std::string& sdp,
                                                                const std::string& tag);

/// 4. Drops RTP on each transport's `rtp_src` until webrtcbin links it to rtpbin.
void guardEarlyRtp(GstElement* webrtc, const std::string& tag);

/// 5. Drops webrtcbin's GstWebRtcBinUpdateTos event where it enters send sink pad `sink`
/// (our senders keep the default priority: DSCP 0, the socket's default anyway).
void dropTosEvents(GstPad* sink);

/// 10. For every transport `webrtc` creates from now on: when its srtpdec's rtp_sink gets
/// a segment, sends stream-start ("<rtp stream id>/rtcp", as srtpdec would), caps
/// application/x-srtcp and that segment into srtpdec's unlinked rtcp_sink.
void segmentSrtcpEarly(GstElement* webrtc, const std::string& tag);

} // namespace manifold::media
