#include "pipelines/SdpMids.hpp"

#include <gst/sdp/sdp.h>

#include <vector>

#include "core/Log.hpp"

namespace manifold::media {

std::string transceiverMid(GstWebRTCRTPTransceiver* transceiver) {
    gchar* mid = nullptr;
    g_object_get(transceiver, "mid", &mid, nullptr);
    std::string out = mid ? mid : "";
    g_free(mid);
    return out;
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

} // namespace manifold::media
