#include "pipelines/webrtc/ForwardingCaps.hpp"

#include <cstring>

namespace manifold::media {

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
