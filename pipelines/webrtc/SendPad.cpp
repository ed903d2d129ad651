#include "pipelines/webrtc/SendPad.hpp"

namespace manifold::media {

SendPad::SendPad(const std::string& name, GstElement* pipeline)
    : pad_(GST_PAD(gst_object_ref_sink(gst_pad_new(name.c_str(), GST_PAD_SRC)))),
      streamId_("manifold/" + name) {
    gst_pad_set_query_function(pad_.get(), &SendPad::onQuery);
    gst_pad_set_active(pad_.get(), TRUE);
    // The subscriber's pipeline is PLAYING by the time a slot exists; its clock (the
    // system clock: no element here provides one) and base time give running time.
    GstClock* clock = gst_element_get_clock(pipeline);
    clock_ = adoptGst(clock ? clock : gst_system_clock_obtain());
    baseTime_ = gst_element_get_base_time(pipeline);
}

SendPad::~SendPad() {
    if (GstPad* peer = gst_pad_get_peer(pad_.get())) {
        gst_pad_unlink(pad_.get(), peer);
        gst_object_unref(peer);
    }
    gst_pad_set_active(pad_.get(), FALSE);
}

bool SendPad::setCaps(const GstCaps* caps) {
    {
        std::lock_guard lock(capsMutex_);
        caps_ = CapsPtr(gst_caps_copy(caps));
    }
    return !linked_ || sendCaps();
}

bool SendPad::sendCaps() {
    CapsPtr caps;
    {
        std::lock_guard lock(capsMutex_);
        if (caps_) caps = CapsPtr(gst_caps_ref(caps_.get()));
    }
    return caps && gst_pad_push_event(pad_.get(), gst_event_new_caps(caps.get()));
}

bool SendPad::sendStickyEvents() {
    GstEvent* start = gst_event_new_stream_start(streamId_.c_str());
    gst_event_set_group_id(start, 1);
    if (!gst_pad_push_event(pad_.get(), start) || !sendCaps()) return false;
    return gst_pad_push_event(pad_.get(), gst_event_ref(sharedSegment()));
}

GstEvent* SendPad::sharedSegment() {
    // One event object for every SendPad. webrtcbin's rtpfunnel pushes the segment of
    // its input each time the next packet comes from another stream, which with
    // synchronous fan-out is almost every packet (publishers take turns). A pad passes a
    // sticky event on only when it is another object than the one it holds, so with one
    // object per stream the segment would go down the whole send chain on every switch,
    // as the TOS event did (Workarounds.hpp, 5).
    static GstEvent* const segment = [] {
        GstSegment s;
        gst_segment_init(&s, GST_FORMAT_TIME);
        return gst_event_new_segment(&s);
    }();
    return segment;
}

bool SendPad::link(GstPad* sink) {
    // The pad has no parent, so the hierarchy check (same bin) does not apply.
    if (gst_pad_link_full(pad_.get(), sink, GST_PAD_LINK_CHECK_NOTHING) != GST_PAD_LINK_OK) return false;
    linked_ = true;
    // The caps now, not with the first packet: webrtcbin connects the m-line's input
    // stream (and lifts the block it put on the pad) when the caps arrive.
    if (!sendStickyEvents()) resendEvents_ = true;
    return true;
}

GstFlowReturn SendPad::push(GstBuffer* buffer) {
    if (resendEvents_.exchange(false) && !sendStickyEvents()) resendEvents_ = true;
    const GstClockTime now = gst_clock_get_time(clock_.get());
    GST_BUFFER_PTS(buffer) = now > baseTime_ ? now - baseTime_ : 0;
    GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
    const GstFlowReturn ret = gst_pad_push(pad_.get(), buffer);
    if (ret == GST_FLOW_FLUSHING) resendEvents_ = true;
    return ret;
}

gboolean SendPad::onQuery(GstPad* pad, GstObject* parent, GstQuery* query) noexcept {
    switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
        GstCaps* caps = gst_pad_get_current_caps(pad);
        if (!caps) caps = gst_caps_new_any();
        GstCaps* filter = nullptr;
        gst_query_parse_caps(query, &filter);
        if (filter) {
            GstCaps* both = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
            gst_caps_unref(caps);
            caps = both;
        }
        gst_query_set_caps_result(query, caps);
        gst_caps_unref(caps);
        return TRUE;
    }
    case GST_QUERY_LATENCY:
        // A live source that adds no latency of its own (packets leave as they arrive).
        gst_query_set_latency(query, TRUE, 0, GST_CLOCK_TIME_NONE);
        return TRUE;
    default:
        return gst_pad_query_default(pad, parent, query);
    }
}

} // namespace manifold::media
