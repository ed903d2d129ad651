#include "pipelines/router/Producer.hpp"

#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <cstring>

#include "core/Log.hpp"
#include "pipelines/router/Consumer.hpp"
#include "pipelines/router/Keyframe.hpp"

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

Producer::Producer(std::string id, MediaKind kind, std::string logTag, MediaCounters& counters, MonotonicClock clock)
    : id_(std::move(id)), kind_(kind), logTag_(std::move(logTag)), counters_(counters), clock_(std::move(clock)) {}

Producer::~Producer() = default;

void Producer::markReady(CapsPtr caps) {
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

void Producer::whenReady(std::function<void()> fn) {
    if (closed_) return;
    if (ready())
        fn();
    else
        waiters_.push_back(std::move(fn));
}

std::shared_ptr<const Producer::Consumers> Producer::snapshot() const {
    std::lock_guard lock(mutex_);
    return consumers_;
}

void Producer::addConsumer(std::shared_ptr<Consumer> consumer) {
    if (closed_) return;
    std::lock_guard lock(mutex_);
    auto next = std::make_shared<Consumers>(*consumers_);
    next->push_back(std::move(consumer));
    consumers_ = std::move(next);
}

void Producer::removeConsumer(const std::shared_ptr<Consumer>& consumer) {
    std::lock_guard lock(mutex_);
    auto next = std::make_shared<Consumers>(*consumers_);
    next->erase(std::remove(next->begin(), next->end(), consumer), next->end());
    consumers_ = std::move(next);
}

std::size_t Producer::consumerCount() const { return snapshot()->size(); }

void Producer::setMuted(bool muted) {
    const bool was = muted_.exchange(muted);
    if (was && !muted) requestKeyframe(true);
}

void Producer::close() {
    closed_ = true;
    waiters_.clear();
    std::lock_guard lock(mutex_);
    consumers_ = std::make_shared<const Consumers>();
    origin_.reset();
}

void Producer::setOrigin(std::shared_ptr<ProducerOrigin> origin) {
    std::lock_guard lock(mutex_);
    origin_ = std::move(origin);
}

std::int64_t Producer::nowUs() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(clock_().time_since_epoch()).count();
}

void Producer::trackAudioLevel(GstBuffer* buffer) {
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

void Producer::inspectVideo(GstBuffer* buffer) {
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
    MLOG(Media, Debug, "%s%d packets of %s lost upstream; asking for a keyframe", logTag_.c_str(), gap, id_.c_str());
    requestKeyframe(true);
}

void Producer::forward(GstBuffer* buffer) {
    packetsIn_.fetch_add(1, std::memory_order_relaxed);
    counters_.packetsIn.fetch_add(1, std::memory_order_relaxed);
    if (kind_ == MediaKind::Video) inspectVideo(buffer);
    if (muted_.load(std::memory_order_relaxed)) return;
    if (kind_ == MediaKind::Audio && audioLevelId_.load(std::memory_order_relaxed) > 0) trackAudioLevel(buffer);
    const auto consumers = snapshot();
    for (const auto& consumer : *consumers) {
        if (!consumer->isActive()) continue; // acquire: a gate opens after its sink was linked
        // Timestamps are running time of the publisher's pipeline; each subscriber's
        // pipeline has its own, so the SendPad re-stamps the copy. The copy is of the
        // GstBuffer header only: the packet's memory is shared, not copied. A refused
        // push (a subscriber's input being re-linked, or going away) drops that copy only.
        GstBuffer* copy = gst_buffer_copy_region(buffer, GstBufferCopyFlags(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_MEMORY), 0, -1);
        if (consumer->sink()->push(copy) == GST_FLOW_OK) // takes the copy
            counters_.packetsForwarded.fetch_add(1, std::memory_order_relaxed);
        else
            counters_.forwardRefused.fetch_add(1, std::memory_order_relaxed);
    }
}

void Producer::forwardList(GstBufferList* list) {
    const guint n = gst_buffer_list_length(list);
    for (guint i = 0; i < n; ++i) forward(gst_buffer_list_get(list, i));
}

void Producer::requestKeyframe(bool soon) {
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

void Producer::sendKeyframeRequest(bool soon, bool retry) {
    const std::int64_t now = nowUs();
    std::int64_t last = lastKeyframeRequest_.load();
    if (last != 0 && now - last < (soon ? kSoonKeyframeIntervalUs : kKeyframeIntervalUs)) return;
    if (!lastKeyframeRequest_.compare_exchange_strong(last, now)) return; // another thread won
    if (retry && ++keyframeRetries_ > kKeyframeRetries) { // streaming thread only
        MLOG(Media, Warning, "%sno keyframe for %s after %d requests; waiting for the next request", logTag_.c_str(),
             id_.c_str(), kKeyframeRetries);
        keyframeWanted_.store(0, std::memory_order_relaxed);
        keyframeRetries_ = 0;
        return;
    }
    std::shared_ptr<ProducerOrigin> origin;
    {
        std::lock_guard lock(mutex_);
        origin = origin_;
    }
    if (!origin) return;
    keyframeRequests_.fetch_add(1, std::memory_order_relaxed);
    counters_.keyframeRequests.fetch_add(1, std::memory_order_relaxed);
    // A fresh count for each request: a FIR's sequence number advances only when it
    // changes, and browsers ignore a repeated FIR.
    origin->requestKeyframe(gint(keyframeRequests_.load() % G_MAXINT));
    MLOG(Media, Debug, "%skeyframe requested for %s", logTag_.c_str(), id_.c_str());
}

} // namespace manifold::media
