#include "pipelines/webrtc/Workarounds.hpp"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/sdp/sdp.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <vector>

#include "core/Log.hpp"
#include "pipelines/webrtc/WebrtcEngine.hpp"

namespace manifold::media {

namespace {
std::atomic<std::uint64_t> nextKeeperId{1};
} // namespace

struct RtxSsrcKeeper::Shared {
    const std::uint64_t id = nextKeeperId.fetch_add(1); // never reused, unlike an address
    std::mutex mutex;
    std::unique_ptr<GstStructure, decltype(&gst_structure_free)> map{nullptr, &gst_structure_free};
    std::set<guint32> ssrcs;       // streams rtprtxsend has seen
    GstElement* element = nullptr; // webrtcbin's rtprtxsend once found; set once, on the control thread
};

namespace {

/// The buffer a BUFFER | BUFFER_LIST probe sees, or the first of its list; null if none.
GstBuffer* firstBuffer(GstPadProbeInfo* info) {
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) return GST_PAD_PROBE_INFO_BUFFER(info);
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    return list && gst_buffer_list_length(list) > 0 ? gst_buffer_list_get(list, 0) : nullptr;
}

/// First packet into a publisher stream's jitterbuffer: NACK (do-retransmission) for the
/// video codecs, not for audio. webrtcbin 1.22's own new-jitterbuffer handler walks every
/// SSRC of the transport and leaves the setting of the last transceiver it finds.
struct NackDecision {
    const WebrtcEngine* engine; // outlives every pipeline
    std::string tag;            // "[room/participant] "
};

GstPadProbeReturn onFirstJitterBufferPacket(GstPad* pad, GstPadProbeInfo* info, gpointer data) noexcept {
    const auto& decision = *static_cast<const NackDecision*>(data);
    GstBuffer* buffer = firstBuffer(info);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!buffer || !gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return GST_PAD_PROBE_OK; // decide on the next one
    const int pt = gst_rtp_buffer_get_payload_type(&rtp);
    const guint32 ssrc = gst_rtp_buffer_get_ssrc(&rtp);
    gst_rtp_buffer_unmap(&rtp);
    const gboolean nack = decision.engine->isVideoPayload(pt);
    GstElement* jitterbuffer = gst_pad_get_parent_element(pad);
    if (jitterbuffer) {
        // NACK only for gaps. With rtx-next-seqnum (the default) the jitterbuffer also
        // expects the next packet one packet spacing after each one, NACKs it when it is
        // late and declares it lost about a latency later; a publisher that pauses that
        // long between frames (an encoder skipping frames, a pacer holding a burst) had
        // the next packet dropped on arrival as too late: lost for every subscriber, and
        // never in their RTX history. Every packet a jitterbuffer drops on arrival is
        // posted on the bus, counted and logged by PeerSession (onElementMessage).
        g_object_set(jitterbuffer, "do-retransmission", nack, "rtx-next-seqnum", FALSE, "post-drop-messages", TRUE,
                     "drop-messages-interval", 0u, nullptr);
        gst_object_unref(jitterbuffer);
    }
    MLOG(Media, Debug, "%sreceived stream ssrc %u pt %d: NACK %s", decision.tag.c_str(), ssrc, pt, nack ? "on" : "off");
    return GST_PAD_PROBE_REMOVE;
}

void onNewJitterBuffer(GstElement*, GstElement* jitterbuffer, guint, guint, gpointer data) noexcept {
    GstPad* sink = gst_element_get_static_pad(jitterbuffer, "sink");
    if (!sink) return;
    gst_pad_add_probe(sink, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      &onFirstJitterBufferPacket, new NackDecision(*static_cast<const NackDecision*>(data)),
                      [](gpointer d) noexcept { delete static_cast<NackDecision*>(d); });
    gst_object_unref(sink);
}

GstPadProbeReturn onRtxSendInput(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
    // rtprtxsend picks a stream's RTX SSRC from its ssrc-map at the stream's first packet
    // and keeps it. webrtcbin sets its own map (new random SSRCs after every offer) each
    // time it connects an input stream, so ours goes back in just before a new stream's
    // first packet. A publisher's thread pushes one stream into many sessions, so the
    // thread's cache holds several (session, stream) pairs: a later packet of a stream
    // costs a hash and one comparison, not the mutex.
    struct Seen {
        std::uint64_t keeper = 0;
        guint32 ssrc = 0;
    };
    thread_local std::array<Seen, 64> seen{};
    GstBuffer* buffer = firstBuffer(info);
    guint8 header[12];
    if (!buffer || gst_buffer_extract(buffer, 0, header, sizeof header) != sizeof header) return GST_PAD_PROBE_OK;
    const guint32 ssrc = GST_READ_UINT32_BE(header + 8);
    RtxSsrcKeeper::Shared& state = **static_cast<std::shared_ptr<RtxSsrcKeeper::Shared>*>(data);
    Seen& entry = seen[(state.id * 0x9E3779B1u ^ ssrc) % seen.size()];
    if (entry.keeper == state.id && entry.ssrc == ssrc) return GST_PAD_PROBE_OK;
    entry = {state.id, ssrc};
    std::lock_guard lock(state.mutex);
    if (!state.map || !state.ssrcs.insert(ssrc).second) return GST_PAD_PROBE_OK;
    g_object_set(state.element, "ssrc-map", state.map.get(), nullptr);
    return GST_PAD_PROBE_OK;
}

} // namespace

void decideNackPerStream(GstElement* rtpbin, const WebrtcEngine& engine, const std::string& logTag) {
    g_signal_connect_data(rtpbin, "new-jitterbuffer", G_CALLBACK(&onNewJitterBuffer),
                          new NackDecision{&engine, logTag},
                          [](gpointer d, GClosure*) noexcept { delete static_cast<NackDecision*>(d); }, GConnectFlags(0));
}

RtxSsrcKeeper::RtxSsrcKeeper() : shared_(std::make_shared<Shared>()) {}
RtxSsrcKeeper::~RtxSsrcKeeper() = default;

void RtxSsrcKeeper::keep(GstSDPMessage* sdp) {
    std::map<guint32, guint32> kept;
    for (guint m = 0; m < gst_sdp_message_medias_len(sdp); ++m) {
        GstSDPMedia* media = const_cast<GstSDPMedia*>(gst_sdp_message_get_media(sdp, m));
        std::map<guint32, guint32> rewrite; // this offer's RTX SSRC -> the one announced first
        for (guint a = 0; a < gst_sdp_media_attributes_len(media); ++a) {
            const GstSDPAttribute* attr = gst_sdp_media_get_attribute(media, a);
            guint32 primary = 0, rtx = 0;
            if (g_strcmp0(attr->key, "ssrc-group") != 0 || !attr->value ||
                std::sscanf(attr->value, "FID %u %u", &primary, &rtx) != 2)
                continue;
            auto [it, fresh] = kept_.try_emplace(primary, rtx);
            kept[primary] = it->second;
            if (fresh || it->second == rtx) continue;
            rewrite[rtx] = it->second;
            GstSDPAttribute fixed;
            gst_sdp_attribute_set(&fixed, "ssrc-group",
                                  ("FID " + std::to_string(primary) + " " + std::to_string(it->second)).c_str());
            gst_sdp_media_replace_attribute(media, a, &fixed);
        }
        if (rewrite.empty()) continue;
        for (guint a = 0; a < gst_sdp_media_attributes_len(media); ++a) {
            const GstSDPAttribute* attr = gst_sdp_media_get_attribute(media, a);
            guint32 ssrc = 0;
            int used = 0;
            if (g_strcmp0(attr->key, "ssrc") != 0 || !attr->value || std::sscanf(attr->value, "%u%n", &ssrc, &used) != 1)
                continue;
            auto it = rewrite.find(ssrc);
            if (it == rewrite.end()) continue;
            GstSDPAttribute fixed;
            gst_sdp_attribute_set(&fixed, "ssrc", (std::to_string(it->second) + (attr->value + used)).c_str());
            gst_sdp_media_replace_attribute(media, a, &fixed);
        }
    }
    kept_ = std::move(kept); // streams no longer offered are forgotten
}

void RtxSsrcKeeper::apply(GstElement* webrtc, const std::string& logTag) {
    GstStructure* map = gst_structure_new_empty("application/x-rtp-ssrc-map");
    for (const auto& [primary, rtx] : kept_)
        gst_structure_set(map, std::to_string(primary).c_str(), G_TYPE_UINT, rtx, nullptr);
    if (log::enabled(log::Category::Media, log::Level::Debug)) {
        gchar* text = gst_structure_to_string(map);
        MLOG(Media, Debug, "%sRTX SSRCs: %s", logTag.c_str(), text);
        g_free(text);
    }
    {
        std::lock_guard lock(shared_->mutex);
        shared_->map.reset(map);
        std::erase_if(shared_->ssrcs, [this](guint32 ssrc) { return !kept_.contains(ssrc); });
    }
    if (shared_->element) return;
    GstIterator* it = gst_bin_iterate_recurse(GST_BIN(webrtc));
    GValue item = G_VALUE_INIT;
    GstElement* found = nullptr;
    while (!found && gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        auto* element = GST_ELEMENT(g_value_get_object(&item));
        GstElementFactory* factory = gst_element_get_factory(element);
        if (factory && g_str_equal(GST_OBJECT_NAME(factory), "rtprtxsend")) found = element;
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
    if (!found) return; // no RTX negotiated yet
    shared_->element = found; // owned by webrtcbin, which outlives the probe
    GstPad* sink = gst_element_get_static_pad(found, "sink");
    gst_pad_add_probe(sink, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      &onRtxSendInput, new std::shared_ptr<RtxSsrcKeeper::Shared>(shared_),
                      [](gpointer d) noexcept { delete static_cast<std::shared_ptr<RtxSsrcKeeper::Shared>*>(d); });
    gst_object_unref(sink);
}


// ------------------------------------------------------------------ 3. mids from our offer

std::string transceiverMid(GstWebRTCRTPTransceiver* transceiver) {
    gchar* mid = nullptr;
    g_object_get(transceiver, "mid", &mid, nullptr);
    std::string out = mid ? mid : "";
    g_free(mid);
    return out;
}

void learnMid(std::string& mid, GstWebRTCRTPTransceiver* transceiver,
              const std::map<GstWebRTCRTPTransceiver*, std::string>& fromOffer) {
    const std::string known = transceiverMid(transceiver);
    if (!known.empty())
        mid = known;
    else if (auto it = fromOffer.find(transceiver); it != fromOffer.end())
        mid = it->second;
}

std::map<GstWebRTCRTPTransceiver*, std::string> midsFromOffer(GstElement* webrtc, const std::string& sdp,
                                                                const std::string& tag) {
    std::map<GstWebRTCRTPTransceiver*, std::string> mids;
    GstSDPMessage* message = nullptr;
    gst_sdp_message_new_from_text(sdp.c_str(), &message);
    if (!message) return mids;
    struct Line {
        std::string mid;
        std::string media;
        bool claimed = false;
    };
    std::vector<Line> lines;
    for (guint i = 0; i < gst_sdp_message_medias_len(message); ++i) {
        const GstSDPMedia* media = gst_sdp_message_get_media(message, i);
        const char* mid = gst_sdp_media_get_attribute_val(media, "mid");
        lines.push_back(Line{mid ? mid : "", gst_sdp_media_get_media(media) ? gst_sdp_media_get_media(media) : ""});
    }
    gst_sdp_message_free(message);

    GArray* transceivers = nullptr;
    g_signal_emit_by_name(webrtc, "get-transceivers", &transceivers);
    if (!transceivers) return mids;
    std::vector<GstWebRTCRTPTransceiver*> fresh; // not associated with an m-line yet
    for (guint i = 0; i < transceivers->len; ++i) {
        auto* t = g_array_index(transceivers, GstWebRTCRTPTransceiver*, i);
        guint mline = G_MAXUINT;
        g_object_get(t, "mlineindex", &mline, nullptr);
        if (mline < lines.size())
            lines[mline].claimed = true;
        else
            fresh.push_back(t);
    }
    // New transceivers take the remaining m-lines in order, as webrtcbin appends them.
    std::size_t next = 0;
    for (GstWebRTCRTPTransceiver* t : fresh) {
        while (next < lines.size() && lines[next].claimed) ++next;
        if (next == lines.size()) break; // added after this offer was made
        GstWebRTCKind kind = GST_WEBRTC_KIND_UNKNOWN;
        g_object_get(t, "kind", &kind, nullptr);
        const bool audio = lines[next].media == "audio";
        if ((kind == GST_WEBRTC_KIND_AUDIO) != audio && kind != GST_WEBRTC_KIND_UNKNOWN) {
            MLOG(Media, Warning, "%sm-line %zu is %s but the next new transceiver is not; mids unknown", tag.c_str(),
                 next, lines[next].media.c_str());
            break;
        }
        mids[t] = lines[next].mid;
        lines[next].claimed = true;
    }
    // The keys are only compared with transceivers the caller holds, never dereferenced.
    g_array_unref(transceivers);
    return mids;
}


// ------------------------------------------------------------------ 4. early RTP

namespace {

struct EarlyRtp {
    std::string tag;
    std::atomic<guint64> dropped{0};
};

GstPadProbeReturn onTransportRtp(GstPad* pad, GstPadProbeInfo*, gpointer data) noexcept {
    auto& early = *static_cast<EarlyRtp*>(data);
    if (gst_pad_is_linked(pad)) {
        if (const guint64 n = early.dropped.load())
            MLOG(Media, Info, "%sreceive path linked; %llu earlier RTP packets dropped", early.tag.c_str(),
                 static_cast<unsigned long long>(n));
        return GST_PAD_PROBE_REMOVE; // and pass this one
    }
    if (early.dropped++ == 0)
        MLOG(Media, Debug, "%sRTP before webrtcbin linked its receive path: dropped", early.tag.c_str());
    return GST_PAD_PROBE_DROP;
}

void onWebrtcElementAdded(GstBin*, GstElement* element, gpointer tag) noexcept {
    if (!g_str_equal(G_OBJECT_TYPE_NAME(element), "TransportReceiveBin")) return;
    GstPad* rtp = gst_element_get_static_pad(element, "rtp_src");
    if (!rtp) return;
    auto* early = new EarlyRtp{*static_cast<const std::string*>(tag)};
    gst_pad_add_probe(rtp, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      &onTransportRtp, early, [](gpointer d) noexcept { delete static_cast<EarlyRtp*>(d); });
    gst_object_unref(rtp);
}

GstPadProbeReturn onSinkEvent(GstPad*, GstPadProbeInfo* info, gpointer) noexcept {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (event && GST_EVENT_TYPE(event) == GST_EVENT_CUSTOM_DOWNSTREAM_STICKY &&
        gst_event_has_name(event, "GstWebRtcBinUpdateTos"))
        return GST_PAD_PROBE_DROP;
    return GST_PAD_PROBE_OK;
}

} // namespace

void guardEarlyRtp(GstElement* webrtc, const std::string& tag) {
    g_signal_connect_data(webrtc, "element-added", G_CALLBACK(&onWebrtcElementAdded), new std::string(tag),
                          [](gpointer d, GClosure*) noexcept { delete static_cast<std::string*>(d); }, GConnectFlags(0));
}

// ------------------------------------------------------------------ 5. TOS event

void dropTosEvents(GstPad* sink) {
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &onSinkEvent, nullptr, nullptr);
}

// ------------------------------------------------------------------ 10. SRTCP segment

namespace {

/// On srtpdec's rtp_sink (a transport's streaming thread): at the segment, srtpdec's
/// rtcp_sink gets the same stream's events, then the probe goes.
GstPadProbeReturn onSrtpSegment(GstPad* rtpSink, GstPadProbeInfo* info, gpointer data) noexcept {
    GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
    if (!event || GST_EVENT_TYPE(event) != GST_EVENT_SEGMENT) return GST_PAD_PROBE_OK;
    const auto& tag = *static_cast<const std::string*>(data);
    GstElement* srtpdec = gst_pad_get_parent_element(rtpSink);
    GstPad* rtcpSink = srtpdec ? gst_element_get_static_pad(srtpdec, "rtcp_sink") : nullptr;
    if (!rtcpSink) {
        if (srtpdec) gst_object_unref(srtpdec);
        return GST_PAD_PROBE_REMOVE;
    }
    gchar* streamId = nullptr;
    if (GstEvent* start = gst_pad_get_sticky_event(rtpSink, GST_EVENT_STREAM_START, 0)) {
        const gchar* id = nullptr;
        gst_event_parse_stream_start(start, &id);
        streamId = g_strdup_printf("%s/rtcp", id ? id : "");
        gst_event_unref(start);
    } else {
        streamId = g_strdup_printf("%s/rtcp", GST_OBJECT_NAME(srtpdec));
    }
    const GstSegment* segment = nullptr;
    gst_event_parse_segment(event, &segment);
    const bool ok = gst_pad_send_event(rtcpSink, gst_event_new_stream_start(streamId)) &&
                    gst_pad_send_event(rtcpSink, gst_event_new_caps(gst_caps_new_empty_simple("application/x-srtcp"))) &&
                    gst_pad_send_event(rtcpSink, gst_event_new_segment(segment));
    MLOG(Media, Debug, "%s%s: RTCP stream %s %s", tag.c_str(), GST_OBJECT_NAME(srtpdec), streamId,
         ok ? "started before its first packet" : "refused its events (stopping?)");
    g_free(streamId);
    gst_object_unref(rtcpSink);
    gst_object_unref(srtpdec);
    return GST_PAD_PROBE_REMOVE;
}

void onTransportBinAdded(GstBin*, GstElement* element, gpointer tag) noexcept {
    if (!g_str_equal(G_OBJECT_TYPE_NAME(element), "TransportReceiveBin")) return;
    // The bin is complete when webrtcbin adds it: its dtlssrtpdec holds the srtpdec.
    GstIterator* it = gst_bin_iterate_recurse(GST_BIN(element));
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        auto* child = GST_ELEMENT(g_value_get_object(&item));
        GstElementFactory* factory = gst_element_get_factory(child);
        if (factory && g_str_equal(GST_OBJECT_NAME(factory), "srtpdec")) {
            if (GstPad* rtpSink = gst_element_get_static_pad(child, "rtp_sink")) {
                gst_pad_add_probe(rtpSink, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &onSrtpSegment,
                                  new std::string(*static_cast<const std::string*>(tag)),
                                  [](gpointer d) noexcept { delete static_cast<std::string*>(d); });
                gst_object_unref(rtpSink);
            }
        }
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
}

} // namespace

void segmentSrtcpEarly(GstElement* webrtc, const std::string& tag) {
    g_signal_connect_data(webrtc, "element-added", G_CALLBACK(&onTransportBinAdded), new std::string(tag),
                          [](gpointer d, GClosure*) noexcept { delete static_cast<std::string*>(d); }, GConnectFlags(0));
}

} // namespace manifold::media
