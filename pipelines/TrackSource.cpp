#include "pipelines/TrackSource.hpp"

#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <cstring>

#include "core/Log.hpp"

namespace manifold::media {

namespace {
constexpr std::int64_t kKeyframeIntervalUs = 500 * 1000;
} // namespace

TrackSource::TrackSource(std::string trackId, MediaKind kind, std::string logTag)
    : trackId_(std::move(trackId)), kind_(kind), logTag_(std::move(logTag)) {}

TrackSource::~TrackSource() = default;

void TrackSource::markReady(CapsPtr caps) {
    if (closed_) return;
    caps_ = std::move(caps);
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
    requestKeyframe(); // a new receiver wants a keyframe to start decoding
}

void TrackSource::removeOutlet(const std::shared_ptr<Outlet>& outlet) {
    std::lock_guard lock(mutex_);
    auto next = std::make_shared<Outlets>(*outlets_);
    next->erase(std::remove(next->begin(), next->end(), outlet), next->end());
    outlets_ = std::move(next);
}

void TrackSource::setMuted(bool muted) {
    const bool was = muted_.exchange(muted);
    if (was && !muted) {
        lastKeyframeRequest_ = 0; // resuming deserves a keyframe even right after another
        requestKeyframe();
    }
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

void TrackSource::forward(GstBuffer* buffer) {
    packetsIn_.fetch_add(1, std::memory_order_relaxed);
    if (muted_.load(std::memory_order_relaxed)) return;
    const auto outlets = snapshot();
    for (const auto& outlet : *outlets) {
        if (outlet->paused.load(std::memory_order_relaxed)) continue;
        // push_buffer takes the reference; the packet's memory is shared, not copied.
        gst_app_src_push_buffer(GST_APP_SRC(outlet->appsrc.get()), gst_buffer_ref(buffer));
        if (outlet->keyframeWanted.exchange(false)) requestKeyframe();
    }
}

void TrackSource::forwardList(GstBufferList* list) {
    const guint n = gst_buffer_list_length(list);
    for (guint i = 0; i < n; ++i) forward(gst_buffer_list_get(list, i));
}

void TrackSource::requestKeyframe() {
    if (kind_ != MediaKind::Video) return;
    const std::int64_t now = g_get_monotonic_time();
    std::int64_t last = lastKeyframeRequest_.load();
    if (last != 0 && now - last < kKeyframeIntervalUs) return;
    if (!lastKeyframeRequest_.compare_exchange_strong(last, now)) return; // another thread won
    GstPtr<GstPad> pad;
    {
        std::lock_guard lock(mutex_);
        pad = retainGst(upstreamPad_.get());
    }
    if (!pad) return;
    keyframeRequests_.fetch_add(1, std::memory_order_relaxed);
    GstStructure* s = gst_structure_new("GstForceKeyUnit", "all-headers", G_TYPE_BOOLEAN, TRUE, nullptr);
    gst_pad_send_event(pad.get(), gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, s));
    MLOG(Media, Debug, "%skeyframe requested for %s", logTag_.c_str(), trackId_.c_str());
}

CapsPtr forwardingCaps(const GstCaps* streamCaps) {
    CapsPtr out(gst_caps_new_empty());
    if (!streamCaps || gst_caps_is_empty(streamCaps)) return out;
    GstStructure* s = gst_structure_copy(gst_caps_get_structure(streamCaps, 0));
    static const char* dropPrefixes[] = {"a-", "ssrc-", "rtcp-fb-", "extmap-", "x-", "npt-", "play-"};
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
