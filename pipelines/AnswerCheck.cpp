#include "pipelines/AnswerCheck.hpp"

#include <cstdlib>

namespace manifold::media {

std::vector<std::string> refusedSendMids(const GstSDPMessage* answer, const std::map<std::string, int>& offered) {
    std::vector<std::string> refused;
    for (guint i = 0; i < gst_sdp_message_medias_len(answer); ++i) {
        const GstSDPMedia* media = gst_sdp_message_get_media(answer, i);
        const char* mid = gst_sdp_media_get_attribute_val(media, "mid");
        if (!mid) continue;
        auto it = offered.find(mid);
        if (it == offered.end()) continue;
        const bool rejected = gst_sdp_media_get_port(media) == 0 &&
                              !gst_sdp_media_get_attribute_val(media, "bundle-only");
        bool keepsPayload = false;
        for (guint f = 0; f < gst_sdp_media_formats_len(media); ++f)
            keepsPayload = keepsPayload || std::atoi(gst_sdp_media_get_format(media, f)) == it->second;
        if (rejected || !keepsPayload) refused.push_back(mid);
    }
    return refused;
}

} // namespace manifold::media
