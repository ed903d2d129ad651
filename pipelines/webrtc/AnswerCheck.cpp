#include "pipelines/webrtc/AnswerCheck.hpp"

#include <cstdlib>
#include <cstring>
#include <sstream>

namespace manifold::media {

namespace {

const char* attribute(const GstSDPMessage* sdp, const GstSDPMedia* media, const char* name) {
    const char* value = gst_sdp_media_get_attribute_val(media, name);
    return value ? value : gst_sdp_message_get_attribute_val(sdp, name);
}

bool isDigits(const std::string& s, std::size_t maxLength) {
    if (s.empty() || s.size() > maxLength) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

} // namespace

std::string checkAnswer(const GstSDPMessage* offer, const GstSDPMessage* answer) {
    const guint n = gst_sdp_message_medias_len(answer);
    if (n == 0) return "the SDP has no media sections";
    if (n != gst_sdp_message_medias_len(offer))
        return "the answer has " + std::to_string(n) + " m-lines, the offer " +
               std::to_string(gst_sdp_message_medias_len(offer));
    for (guint i = 0; i < n; ++i) {
        const GstSDPMedia* a = gst_sdp_message_get_media(answer, i);
        const GstSDPMedia* o = gst_sdp_message_get_media(offer, i);
        const std::string where = "m-line " + std::to_string(i);
        const char* kind = gst_sdp_media_get_media(a);
        if (!kind || !gst_sdp_media_get_media(o) || std::strcmp(kind, gst_sdp_media_get_media(o)) != 0)
            return where + " is not of the offer's media kind";
        const char* mid = gst_sdp_media_get_attribute_val(a, "mid");
        const char* offeredMid = gst_sdp_media_get_attribute_val(o, "mid");
        if (!mid || !offeredMid || std::strcmp(mid, offeredMid) != 0) return where + " does not keep the offer's mid";
        if (gst_sdp_media_get_port(a) == 0 && !gst_sdp_media_get_attribute_val(a, "bundle-only"))
            continue; // rejected m-line: no transport needed
        const char* ufrag = attribute(answer, a, "ice-ufrag");
        const char* pwd = attribute(answer, a, "ice-pwd");
        if (!ufrag || !*ufrag || !pwd || !*pwd) return where + " has no ICE credentials (a=ice-ufrag, a=ice-pwd)";
        const char* fingerprint = attribute(answer, a, "fingerprint");
        if (!fingerprint || !std::strchr(fingerprint, ' ')) return where + " has no DTLS fingerprint";
        const char* setup = attribute(answer, a, "setup");
        if (!setup || (std::strcmp(setup, "active") != 0 && std::strcmp(setup, "passive") != 0))
            return where + " has no DTLS role (a=setup must be active or passive in an answer)";
    }
    return "";
}

std::string checkCandidate(int mlineIndex, const std::string& candidate, unsigned mlines) {
    if (mlineIndex < 0 || unsigned(mlineIndex) >= mlines)
        return "sdpMLineIndex " + std::to_string(mlineIndex) + " names no m-line of the offer (it has " +
               std::to_string(mlines) + ")";
    // RFC 8839: foundation component-id transport priority address port "typ" type ...
    std::string text = candidate;
    if (text.rfind("candidate:", 0) == 0) text = text.substr(10);
    std::istringstream in(text);
    std::string foundation, component, transport, priority, address, port, typ, type;
    in >> foundation >> component >> transport >> priority >> address >> port >> typ >> type;
    if (type.empty() || typ != "typ") return "the candidate is not of the form 'candidate:F C TRANSPORT PRIO ADDR PORT typ TYPE'";
    if (!isDigits(component, 3) || !isDigits(priority, 10)) return "the candidate's component or priority is not a number";
    if (g_ascii_strcasecmp(transport.c_str(), "udp") != 0 && g_ascii_strcasecmp(transport.c_str(), "tcp") != 0)
        return "the candidate's transport '" + transport + "' is neither UDP nor TCP";
    if (!isDigits(port, 5) || std::stoul(port) > 65535) return "the candidate's port '" + port + "' is out of range";
    if (type != "host" && type != "srflx" && type != "prflx" && type != "relay")
        return "the candidate's type '" + type + "' is unknown";
    return "";
}

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
