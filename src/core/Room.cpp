#include "core/Room.hpp"

#include <algorithm>

#include "core/Log.hpp"

namespace manifold {

Room::Room(std::string name) : name_(std::move(name)) {}

Participant* Room::find(const std::string& participantId) const {
    for (const auto& p : participants_)
        if (p->id() == participantId) return p.get();
    return nullptr;
}

std::vector<Participant*> Room::participants() const {
    std::vector<Participant*> out;
    out.reserve(participants_.size());
    for (const auto& p : participants_) out.push_back(p.get());
    return out;
}

RoomInfo Room::info() const {
    RoomInfo out{name_, {}};
    for (const auto& p : participants_) out.participants.push_back(p->info());
    return out;
}

std::vector<ParticipantInfo> Room::othersThan(const Participant& self) const {
    std::vector<ParticipantInfo> out;
    for (const auto& p : participants_)
        if (p.get() != &self) out.push_back(p->info());
    return out;
}

template <typename Fn>
void Room::tellOthers(const std::string& except, Fn&& fn) {
    std::vector<std::string> ids;
    ids.reserve(participants_.size());
    for (const auto& p : participants_)
        if (p->id() != except) ids.push_back(p->id());
    for (const auto& id : ids)
        if (Participant* p = find(id)) fn(p->listener(), *p);
}

Participant& Room::add(std::unique_ptr<Participant> participant) {
    Participant& added = *participant;
    participants_.push_back(std::move(participant));
    const ParticipantInfo info = added.info();
    tellOthers(added.id(), [&](Participant::Listener& l, Participant&) { l.onParticipantJoined(info); });
    MLOG_P(Core, Info, name_, added.id(), "joined as '%s' (%zu in room)", added.identity().c_str(),
           participants_.size());
    return added;
}

std::unique_ptr<Participant> Room::remove(const std::string& participantId, LeaveReason reason) {
    auto it = std::find_if(participants_.begin(), participants_.end(),
                           [&](const auto& p) { return p->id() == participantId; });
    if (it == participants_.end()) return nullptr;
    std::unique_ptr<Participant> gone = std::move(*it);
    participants_.erase(it);
    // Its tracks go first, so subscribers release them before they hear it left.
    for (const TrackInfo& track : gone->tracks_) {
        for (const auto& p : participants_) p->subscriptions_.erase(track.id);
        tellOthers(gone->id(), [&](Participant::Listener& l, Participant&) { l.onTrackUnpublished(track); });
    }
    const ParticipantInfo info = gone->info();
    tellOthers(gone->id(), [&](Participant::Listener& l, Participant&) { l.onParticipantLeft(info, reason); });
    MLOG_P(Core, Info, name_, gone->id(), "left (%s, %zu in room)", toString(reason),
           participants_.size());
    return gone;
}

Result<TrackInfo> Room::publish(Participant& owner, std::string trackId,
                                               MediaKind kind, std::string label,
                                               std::size_t maxTracks,
                                               const std::function<void(const TrackInfo&)>& beforeAnnounce) {
    if (owner.tracks_.size() >= maxTracks) return Refusal::TooManyTracks;
    TrackInfo track{std::move(trackId), owner.id(), kind, std::move(label), false};
    owner.tracks_.push_back(track);
    if (beforeAnnounce) beforeAnnounce(track);
    tellOthers(owner.id(), [&](Participant::Listener& l, Participant&) { l.onTrackPublished(track); });
    MLOG_P(Core, Info, name_, owner.id(), "published %s track %s '%s'", toString(kind),
           track.id.c_str(), track.label.c_str());
    return track;
}

Result<TrackInfo> Room::unpublish(Participant& owner, const std::string& trackId) {
    auto it = std::find_if(owner.tracks_.begin(), owner.tracks_.end(),
                           [&](const TrackInfo& t) { return t.id == trackId; });
    if (it == owner.tracks_.end()) return Refusal::UnknownTrack;
    TrackInfo track = *it;
    owner.tracks_.erase(it);
    for (const auto& p : participants_) p->subscriptions_.erase(trackId);
    tellOthers(owner.id(), [&](Participant::Listener& l, Participant&) { l.onTrackUnpublished(track); });
    MLOG_P(Core, Info, name_, owner.id(), "unpublished track %s", trackId.c_str());
    return track;
}

Result<TrackInfo> Room::setMuted(Participant& owner, const std::string& trackId,
                                                bool muted) {
    TrackInfo* track = owner.findTrack(trackId);
    if (!track) return Refusal::UnknownTrack;
    if (track->muted == muted) return *track;
    track->muted = muted;
    const TrackInfo copy = *track;
    tellOthers(owner.id(), [&](Participant::Listener& l, Participant&) { l.onTrackMuted(copy); });
    return copy;
}

void Room::setSpeaking(Participant& owner, const std::string& trackId, bool speaking) {
    const TrackInfo* track = owner.findTrack(trackId);
    if (!track) return;
    const TrackInfo copy = *track;
    tellOthers("", [&](Participant::Listener& l, Participant&) { l.onSpeaking(copy, speaking); });
    MLOG_P(Core, Debug, name_, owner.id(), "%s speaking on %s", speaking ? "started" : "stopped", trackId.c_str());
}

std::pair<const TrackInfo*, Participant*> Room::findTrack(const std::string& trackId) const {
    for (const auto& p : participants_)
        if (const TrackInfo* t = p->findTrack(trackId)) return {t, p.get()};
    return {nullptr, nullptr};
}

Status Room::subscribe(Participant& subscriber, const std::string& trackId) {
    auto [track, owner] = findTrack(trackId);
    if (!track) return Refusal::UnknownTrack;
    if (owner == &subscriber) return Refusal::NotOwner; // one's own track is not received back
    subscriber.subscriptions_.insert(trackId);
    return std::nullopt;
}

Status Room::unsubscribe(Participant& subscriber, const std::string& trackId) {
    if (subscriber.subscriptions_.erase(trackId) == 0) return Refusal::UnknownTrack;
    return std::nullopt;
}

} // namespace manifold
