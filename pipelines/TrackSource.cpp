#include "pipelines/TrackSource.hpp"

#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <cstring>

#include "core/Log.hpp"
#include "pipelines/Keyframe.hpp"

namespace manifold::media {

namespace {
constexpr std::int64_t kKeyframeIntervalUs = 500 * 1000;
// libwebrtc acts on at most one keyframe request per 300 ms (EncoderRtcpFeedback): one
// sent sooner after the previous is ignored, so "soon" is just over that.
constexpr std::int64_t kSoonKeyframeIntervalUs = 320 * 1000;
// A request still unanswered by a keyframe is sent again this many times, then given up
// (the publisher is not listening; the next request starts over).
constexpr int kKeyframeRetries = 10;
constexpr const char* kAudioLevelUri = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
// Audio level is -dBov (0 = loudest, 127 = silence). Speech sits around 20-40.
constexpr int kSpeakingLevel = 45;  // at least this loud ...
constexpr int kSpeakingPackets = 5; // ... for 5 packets (100 ms of 20 ms Opus frames)
constexpr int kSilentLevel = 55;    // quieter than this ...
constexpr int kSilentPackets = 40;  // ... for 800 ms ends speaking
} // namespace

TrackSource::TrackSource(std::string trackId, MediaKind kind, std::string logTag, MediaCounters& counters)
    : trackId_(std::move(trackId)), kind_(kind), logTag_(std::move(logTag)), counters_(counters) {}

TrackSource::~TrackSource() = default;

void TrackSource::markReady(CapsPtr caps) {
    if (closed_) return;
    caps_ = std::move(caps);
    if (kind_ == MediaKind::Video)
        codec_ = videoCodecFromName(gst_structure_get_string(gst_caps_get_structure(caps_.get(), 0), "encoding-name"));
    // Which extension id carries the audio level (the publisher answered our offer of it).
    const GstStructure* s = gst_caps_get_structure(caps_.get(), 0);
    for (int i = 0; s && i < gst_structure_n_fields(s); ++i) {
        const char* field = gst_structure_nth_field_name(s, guint(i));
        const char* value = g_str_has_prefix(field, "extmap-") ? gst_structure_get_string(s, field) : nullptr;
        if (value && g_str_equal(value, kAudioLevelUri)) audioLevelId_ = std::atoi(field + 7);
    }
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& fn : waiters) fn();
}

void TrackSource::whenReady(std::function<void()> fn) {
    if (closed_) return;
    if (ready())
        fn();
    else
        waiters_.push_back(std::move(fn));
}

std::shared_ptr<const TrackSource::Outlets> TrackSource::snapshot() const {
    std::lock_guard lock(mutex_);
    return outlets_;
}

void TrackSource::addOutlet(std::shared_ptr<Outlet> outlet) {
    if (closed_) return;
    {
        std::lock_guard lock(mutex_);
        auto next = std::make_shared<Outlets>(*outlets_);
        next->push_back(std::move(outlet));
        outlets_ = std::move(next);
    }
}

void TrackSource::removeOutlet(const std::shared_ptr<Outlet>& outlet) {
    std::lock_guard lock(mutex_);
    auto next = std::make_shared<Outlets>(*outlets_);
    next->erase(std::remove(next->begin(), next->end(), outlet), next->end());
    outlets_ = std::move(next);
}

void TrackSource::setMuted(bool muted) {
    const bool was = muted_.exchange(muted);
    if (was && !muted) requestKeyframe(true);
}

void TrackSource::close() {
    closed_ = true;
    waiters_.clear();
    std::lock_guard lock(mutex_);
    outlets_ = std::make_shared<const Outlets>();
    upstreamPad_.reset();
}

void TrackSource::setUpstreamPad(GstPad* pad) {
    std::lock_guard lock(mutex_);
    upstreamPad_ = retainGst(pad);
}

void TrackSource::trackAudioLevel(GstBuffer* buffer) {
    const int id = audioLevelId_.load(std::memory_order_relaxed);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return;
    gpointer data = nullptr;
    guint size = 0;
    int level = 127;
    if (gst_rtp_buffer_get_extension_onebyte_header(&rtp, guint8(id), 0, &data, &size) && size >= 1)
        level = static_cast<const guint8*>(data)[0] & 0x7f;
    gst_rtp_buffer_unmap(&rtp);
    loudRun_ = level <= kSpeakingLevel ? loudRun_ + 1 : 0;
    quietRun_ = level > kSilentLevel ? quietRun_ + 1 : 0;
    bool changed = false;
    if (!speaking_ && loudRun_ >= kSpeakingPackets) changed = speaking_ = true;
    else if (speaking_ && quietRun_ >= kSilentPackets) {
        speaking_ = false;
        changed = true;
    }
    if (changed && onSpeaking_) onSpeaking_(speaking_);
}

void TrackSource::inspectVideo(GstBuffer* buffer) {
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) return;
    const int seq = gst_rtp_buffer_get_seq(&rtp);
    const int wanted = keyframeWanted_.load(std::memory_order_relaxed);
    const bool keyframe =
        wanted != 0 && startsKeyframe(codec_.load(std::memory_order_relaxed),
                                      static_cast<const std::uint8_t*>(gst_rtp_buffer_get_payload(&rtp)),
                                      gst_rtp_buffer_get_payload_len(&rtp));
    gst_rtp_buffer_unmap(&rtp);
    if (keyframe) {
        keyframeWanted_.store(0, std::memory_order_relaxed);
        keyframeRetries_ = 0;
    } else if (wanted != 0) {
        sendKeyframeRequest(wanted == kWantedSoon, true);
    }
    const int expected = (lastSeq_ + 1) & 0xffff;
    // A jump of up to 1000 is loss; anything else (a new stream, a big reorder) restarts.
    const int gap = lastSeq_ < 0 ? 0 : (seq - expected) & 0xffff;
    lastSeq_ = seq;
    if (gap == 0 || gap > 1000) return;
    gaps_.fetch_add(1, std::memory_order_relaxed);
    counters_.upstreamGaps.fetch_add(1, std::memory_order_relaxed);
    MLOG(Media, Debug, "%s%d packets of %s lost upstream; asking for a keyframe", logTag_.c_str(), gap, trackId_.c_str());
    requestKeyframe(true);
}

void TrackSource::forward(GstBuffer* buffer) {
    packetsIn_.fetch_add(1, std::memory_order_relaxed);
    counters_.packetsIn.fetch_add(1, std::memory_order_relaxed);
    if (kind_ == MediaKind::Video) inspectVideo(buffer);
    if (muted_.load(std::memory_order_relaxed)) return;
    if (kind_ == MediaKind::Audio && audioLevelId_.load(std::memory_order_relaxed) > 0) trackAudioLevel(buffer);
    const auto outlets = snapshot();
    for (const auto& outlet : *outlets) {
        // Acquire: a gate opens after the pad was linked on the control thread.
        if (outlet->paused.load(std::memory_order_relaxed) || outlet->gated.load(std::memory_order_acquire))
            continue;
        // Timestamps are running time of the publisher's pipeline; each subscriber's
        // pipeline has its own, so the SendPad re-stamps the copy. The copy is of the
        // GstBuffer header only: the packet's memory is shared, not copied. A refused
        // push (a subscriber's input being re-linked, or going away) drops that copy only.
        GstBuffer* copy = gst_buffer_copy_region(buffer, GstBufferCopyFlags(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_MEMORY), 0, -1);
        if (outlet->sendPad->push(copy) == GST_FLOW_OK) // takes the copy
            counters_.packetsForwarded.fetch_add(1, std::memory_order_relaxed);
    }
}

void TrackSource::forwardList(GstBufferList* list) {
    const guint n = gst_buffer_list_length(list);
    for (guint i = 0; i < n; ++i) forward(gst_buffer_list_get(list, i));
}

void TrackSource::requestKeyframe(bool soon) {
    if (kind_ != MediaKind::Video) return;
    // Owed until a keyframe passes (when the codec says which packets start one): a
    // request the throttle holds back, or the publisher ignores, is sent again from
    // forward(). Unknown codecs get the request now or not at all.
    if (codec_.load(std::memory_order_relaxed) != VideoCodec::Unknown) {
        int wanted = keyframeWanted_.load(std::memory_order_relaxed);
        const int next = soon ? kWantedSoon : kWanted;
        while (wanted < next && !keyframeWanted_.compare_exchange_weak(wanted, next)) {
        }
    }
    sendKeyframeRequest(soon, false);
}

void TrackSource::sendKeyframeRequest(bool soon, bool retry) {
    const std::int64_t now = g_get_monotonic_time();
    std::int64_t last = lastKeyframeRequest_.load();
    if (last != 0 && now - last < (soon ? kSoonKeyframeIntervalUs : kKeyframeIntervalUs)) return;
    if (!lastKeyframeRequest_.compare_exchange_strong(last, now)) return; // another thread won
    if (retry && ++keyframeRetries_ > kKeyframeRetries) { // streaming thread only
        MLOG(Media, Warning, "%sno keyframe for %s after %d requests; waiting for the next request", logTag_.c_str(),
             trackId_.c_str(), kKeyframeRetries);
        keyframeWanted_.store(0, std::memory_order_relaxed);
        keyframeRetries_ = 0;
        return;
    }
    GstPtr<GstPad> pad;
    {
        std::lock_guard lock(mutex_);
        pad = retainGst(upstreamPad_.get());
    }
    if (!pad) return;
    keyframeRequests_.fetch_add(1, std::memory_order_relaxed);
    counters_.keyframeRequests.fetch_add(1, std::memory_order_relaxed);
    // rtpsession answers this with a FIR (all-headers, and the m-line offers "ccm fir";
    // webrtcbin 1.22 does not put "nack pli" in the payload caps rtpsession consults, so
    // a PLI is never sent). A FIR's sequence number only advances when "count" changes:
    // without a fresh count, every later FIR repeats the first and browsers ignore it.
    const gint count = gint(keyframeRequests_.load() % G_MAXINT);
    GstStructure* s = gst_structure_new("GstForceKeyUnit", "all-headers", G_TYPE_BOOLEAN, TRUE, "count", G_TYPE_INT,
                                        count, nullptr);
    gst_pad_send_event(pad.get(), gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
    MLOG(Media, Debug, "%skeyframe requested for %s", logTag_.c_str(), trackId_.c_str());
}

CapsPtr forwardingCaps(const GstCaps* streamCaps, const GstCaps* offered) {
    CapsPtr out(gst_caps_new_empty());
    if (!streamCaps || gst_caps_is_empty(streamCaps)) return out;
    GstStructure* s = gst_structure_copy(gst_caps_get_structure(streamCaps, 0));
    int payload = -1;
    gst_structure_get_int(s, "payload", &payload);
    for (guint i = 0; offered && i < gst_caps_get_size(offered); ++i) {
        const GstStructure* o = gst_caps_get_structure(offered, i);
        int offeredPayload = -2;
        if (!gst_structure_get_int(o, "payload", &offeredPayload) || offeredPayload != payload) continue;
        for (int f = 0; f < gst_structure_n_fields(o); ++f) {
            const char* name = gst_structure_nth_field_name(o, guint(f));
            if (!gst_structure_has_field(s, name)) gst_structure_set_value(s, name, gst_structure_get_value(o, name));
        }
    }
    // extmap-* stays: forwarded packets keep the publisher's header extensions (the audio
    // level), so the subscriber's m-line must declare the same ids.
    static const char* dropPrefixes[] = {"a-", "ssrc-", "rtcp-fb-", "x-", "npt-", "play-"};
    static const char* dropNames[] = {"timestamp-offset", "seqnum-offset", "clock-base", "seqnum-base",
                                      "onvif-mode", "rtx-ssrc", "rtx-payload", "rtx-time"};
    gst_structure_filter_and_map_in_place(
        s,
        [](GQuark field, GValue*, gpointer) -> gboolean {
            const char* name = g_quark_to_string(field);
            for (const char* p : dropPrefixes)
                if (g_str_has_prefix(name, p)) return FALSE;
            for (const char* n : dropNames)
                if (std::strcmp(name, n) == 0) return FALSE;
            return TRUE;
        },
        nullptr);
    gst_caps_append_structure(out.get(), s);
    return out;
}

bool isForceKeyUnit(GstEvent* event) {
    if (GST_EVENT_TYPE(event) != GST_EVENT_CUSTOM_UPSTREAM) return false;
    const GstStructure* s = gst_event_get_structure(event);
    return s && gst_structure_has_name(s, "GstForceKeyUnit");
}

} // namespace manifold::media
