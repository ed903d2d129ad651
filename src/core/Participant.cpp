#include "core/Participant.hpp"

#include <algorithm>

namespace manifold {

Participant::Participant(std::string id, std::string room, std::string identity, std::string name,
                         std::string metadataJson, Grants grants, Listener& listener)
    : id_(std::move(id)), room_(std::move(room)), identity_(std::move(identity)),
      name_(std::move(name)), metadataJson_(std::move(metadataJson)), grants_(grants),
      listener_(listener) {}

ParticipantInfo Participant::info() const {
    return ParticipantInfo{id_, identity_, name_, metadataJson_, tracks_};
}

TrackInfo* Participant::findTrack(const std::string& trackId) {
    auto it = std::find_if(tracks_.begin(), tracks_.end(),
                           [&](const TrackInfo& t) { return t.id == trackId; });
    return it == tracks_.end() ? nullptr : &*it;
}

} // namespace manifold
