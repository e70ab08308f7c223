#include "storyboard/StoryboardInputs.h"

#include "story/StoryShots.h"
#include "storyboard/InputHasher.h"
#include "storyboard/StoryboardKeys.h"

#include <QCryptographicHash>
#include <QJsonArray>

namespace gd::storyboard {

namespace {

QString joinNonEmpty(const QStringList& parts)
{
    QStringList kept;
    for (const QString& p : parts)
        if (!p.trimmed().isEmpty())
            kept << p.trimmed();
    return kept.join(QStringLiteral(", "));
}

CurrentInputs ready(QJsonObject inputs, bool textOnly = false)
{
    CurrentInputs c;
    c.hash = InputHasher::hash(inputs);
    c.inputs = std::move(inputs);
    c.textOnly = textOnly;
    return c;
}

CurrentInputs blockedBy(const QString& message)
{
    CurrentInputs c;
    c.blocked = message;
    return c;
}

// The look (or the location) a reference key names, for the default prompts.
const story::CharacterLook* lookOf(const story::Story& story, const QString& key, const story::StoryCharacter** who)
{
    const QString display = StoryboardKeys::displayName(key);
    const int hash = display.lastIndexOf(QLatin1Char('#'));
    if (!key.startsWith(QLatin1String("character:")) || hash < 0)
        return nullptr;
    const story::StoryCharacter* c = story::findCharacter(story, display.left(hash));
    if (!c)
        return nullptr;
    *who = c;
    const QString lookId = display.mid(hash + 1);
    for (const story::CharacterLook& l : c->looks)
        if (l.id == lookId)
            return &l;
    return nullptr;
}

} // namespace

StoryboardInputs::StoryboardInputs(const story::Story& story, const StoryboardState& state, InputContext context)
    : m_story(story), m_state(state), m_context(std::move(context)), m_shots(story),
      m_chain(ChainPlanner::plan(m_shots, m_context.chainCap))
{
}

const ChainLink* StoryboardInputs::linkOf(const QString& shotKey) const
{
    const int i = m_shots.indexOf(shotKey);
    return i < 0 ? nullptr : &m_chain.at(i);
}

QStringList StoryboardInputs::referenceKeys() const
{
    QStringList keys;
    for (const story::StoryCharacter& c : m_story.characters)
        for (const story::CharacterLook& l : ShotList::looksOf(c))
            keys << StoryboardKeys::character(c.name, l.id);
    for (const story::StoryLocation& l : m_story.locations)
        if (!l.referencePrompt.trimmed().isEmpty())
            keys << StoryboardKeys::location(l.name);
    if (!m_story.style.referenceImage.isEmpty())
        keys << StoryboardKeys::style();
    return keys;
}

QStringList StoryboardInputs::referencesOfShot(const ShotRef& shot) const
{
    QStringList keys;
    for (const story::ShotCharacter& sc : shot.shot.visibleCharacters)
        if (story::findCharacter(m_story, sc.name))
            keys << StoryboardKeys::character(sc.name, sc.look);
    keys.removeDuplicates();
    return keys;
}

bool StoryboardInputs::isBookend(const ShotRef& shot)
{
    return !shot.shot.lastFrame.trimmed().isEmpty();
}

bool StoryboardInputs::clipNeedsEndKeyframe(const ShotRef& shot) const
{
    return m_context.clipUsesEndImage && isBookend(shot);
}

qint64 StoryboardInputs::seedFor(ItemKind kind, const QString& key) const
{
    QJsonObject stored;
    if (kind == ItemKind::Clip) {
        const ShotEntry* e = m_state.findShot(key);
        if (const ClipVersion* v = e ? e->clip.selectedVersion() : nullptr)
            stored = v->inputs;
    } else if (const ImageTrack* t = m_state.imageTrack(kind, key)) {
        if (const ImageVersion* v = t->selectedVersion())
            stored = v->inputs;
    }
    if (stored.contains(QLatin1String("seed")))
        return stored.value(QLatin1String("seed")).toInteger();
    // The end keyframe derives its own seed so the shot's two stills are not the same noise.
    const bool end = kind == ItemKind::EndKeyframe;
    if (m_context.baseSeed >= 0)
        return end ? m_context.baseSeed + kEndKeyframeSeedOffset : m_context.baseSeed;
    // 31 bits of the key's hash: stable, positive, and accepted by every sampler.
    const QByteArray h = QCryptographicHash::hash((end ? StoryboardKeys::endKeyframe(key) : key).toUtf8(),
                                                  QCryptographicHash::Sha256);
    const quint32 v = (quint32(quint8(h[0])) << 24) | (quint32(quint8(h[1])) << 16) | (quint32(quint8(h[2])) << 8) |
                      quint32(quint8(h[3]));
    return qint64(v & 0x7fffffffU);
}

CurrentInputs StoryboardInputs::reference(const QString& key) const
{
    if (key == StoryboardKeys::style())
        return blockedBy(QStringLiteral("the style reference image %1 is uploaded, not rendered: upload it")
                             .arg(m_story.style.referenceImage));
    QString prompt;
    if (m_context.referencePrompt) {
        prompt = m_context.referencePrompt(m_story, key);
    } else if (key.startsWith(QLatin1String("location:"))) {
        for (const story::StoryLocation& l : m_story.locations)
            if (l.name == StoryboardKeys::displayName(key))
                prompt = l.referencePrompt;
    } else {
        const story::StoryCharacter* who = nullptr;
        const story::CharacterLook* look = lookOf(m_story, key, &who);
        if (look)
            prompt = look->referencePrompt.isEmpty() ? who->referencePrompt : look->referencePrompt;
        else if (who && key.endsWith(QLatin1String("#default")))
            prompt = who->referencePrompt; // the implicit look of a character without looks
    }
    if (prompt.trimmed().isEmpty())
        return blockedBy(QStringLiteral("%1 has no reference prompt").arg(StoryboardKeys::displayName(key)));
    const QString negative =
        m_context.referenceNegative ? m_context.referenceNegative(m_story, key) : m_story.style.negativePrompt;
    return ready(InputHasher::referenceInputs(prompt, negative, seedFor(ItemKind::Reference, key), QString(),
                                              m_context.referenceProfileHash, m_context.referenceModel));
}

CurrentInputs StoryboardInputs::keyframe(const QString& shotKey, bool allowTextOnly) const
{
    return shotImage(ItemKind::Keyframe, shotKey, allowTextOnly);
}

CurrentInputs StoryboardInputs::endKeyframe(const QString& shotKey, bool allowTextOnly) const
{
    return shotImage(ItemKind::EndKeyframe, shotKey, allowTextOnly);
}

CurrentInputs StoryboardInputs::shotImage(ItemKind kind, const QString& shotKey, bool allowTextOnly) const
{
    const ShotRef* found = m_shots.find(shotKey);
    if (!found)
        return blockedBy(QStringLiteral("the story has no shot %1").arg(shotKey));
    const bool end = kind == ItemKind::EndKeyframe;
    if (end && !isBookend(*found))
        return blockedBy(QStringLiteral("shot %1 has no lastFrame: it has no end keyframe").arg(shotKey));
    // The end keyframe is the shot's lastFrame composed exactly as a keyframe's firstFrame is.
    ShotRef endRef;
    if (end) {
        endRef = *found;
        endRef.shot.firstFrame = found->shot.lastFrame;
    }
    const ShotRef* shot = end ? &endRef : found;
    KeyframeInputSpec spec;
    QStringList problems;
    for (const QString& unknown : shot->unknownCharacters) {
        const int hash = unknown.lastIndexOf(QLatin1Char('#'));
        const QString look = unknown.mid(hash + 1);
        problems << (look.isEmpty() ? QStringLiteral("shot names %1, who is not in the bible").arg(unknown.left(hash))
                                    : QStringLiteral("shot names %1 with look '%2', which the bible does not have")
                                          .arg(unknown.left(hash), look));
    }
    for (const story::ShotCharacter& sc : shot->shot.visibleCharacters) {
        const story::StoryCharacter* c = story::findCharacter(m_story, sc.name);
        if (!c)
            continue;
        const QString key = StoryboardKeys::character(sc.name, sc.look);
        const ReferenceEntry* ref = m_state.findReference(key);
        const Candidate* sheet = ref && ref->track.approved ? ref->track.selectedCandidate() : nullptr;
        if (sheet && !sheet->sha256.isEmpty()) {
            spec.referenceSha256.insert(key, sheet->sha256);
            continue;
        }
        problems << (ShotList::looksOf(*c).size() > 1
                         ? QStringLiteral("shot names %1, who has no approved sheet (look %2)").arg(sc.name, sc.look)
                         : QStringLiteral("shot names %1, who has no approved sheet").arg(sc.name));
    }
    // The profile is chosen by whether any sheet anchors the keyframe; the style image counts only when
    // that profile has a slot for it (an image the render never sees must not make the keyframe stale).
    const bool textProfile = spec.referenceSha256.isEmpty() && !m_context.textKeyframeProfileHash.isEmpty();
    const bool styleSlot = textProfile ? m_context.textKeyframeUsesStyleImage : m_context.keyframeUsesStyleImage;
    if (!m_story.style.referenceImage.isEmpty() && !styleSlot) {
        spec.styleReferenceUnused = true;
    } else if (!m_story.style.referenceImage.isEmpty()) {
        const ReferenceEntry* style = m_state.findReference(StoryboardKeys::style());
        const Candidate* image = style ? style->track.selectedCandidate() : nullptr;
        if (image && !image->sha256.isEmpty())
            spec.styleReferenceSha256 = image->sha256;
        else
            problems << QStringLiteral("the style reference image %1 is not uploaded to the storyboard")
                            .arg(m_story.style.referenceImage);
    }
    if (!problems.isEmpty() && !allowTextOnly)
        return blockedBy(problems.join(QStringLiteral("; ")));
    spec.textOnly = !problems.isEmpty();
    if (!m_context.keyframePrompt || !m_context.keyframeNegative) {
        const story::ShotPrompt composed =
            story::composeShotPrompt(m_story, m_story.scenes.at(shot->sceneIndex), shot->shot);
        spec.prompt = composed.prompt;
        spec.negative = composed.negativePrompt;
    }
    if (m_context.keyframePrompt)
        spec.prompt = m_context.keyframePrompt(m_story, *shot);
    if (m_context.keyframeNegative)
        spec.negative = m_context.keyframeNegative(m_story, *shot);
    spec.seed = seedFor(kind, shotKey);
    spec.profileHash = textProfile ? m_context.textKeyframeProfileHash : m_context.keyframeProfileHash;
    spec.model = textProfile ? m_context.textKeyframeModel : m_context.keyframeModel;
    QJsonObject inputs = InputHasher::keyframeInputs(spec);
    if (end) // the same text as the keyframe's (lastFrame == firstFrame) still hashes apart
        inputs.insert(QStringLiteral("kind"), QStringLiteral("endKeyframe"));
    return ready(std::move(inputs), spec.textOnly);
}

CurrentInputs StoryboardInputs::clip(const QString& shotKey) const
{
    const ShotRef* shot = m_shots.find(shotKey);
    const ChainLink* link = linkOf(shotKey);
    if (!shot || !link)
        return blockedBy(QStringLiteral("the story has no shot %1").arg(shotKey));
    ClipInputSpec spec;
    if (link->source == FirstFrameSource::PreviousLastFrame) {
        const ShotEntry* prev = m_state.findShot(link->previousKey);
        const ClipVersion* v = prev ? prev->clip.selectedVersion() : nullptr;
        if (!v || v->lastFrameSha256.isEmpty())
            return blockedBy(QStringLiteral("continues from %1, whose clip is not rendered yet").arg(link->previousKey));
        spec.startSha256 = v->lastFrameSha256;
        spec.startSource = QStringLiteral("previousLastFrame");
    } else {
        const ShotEntry* e = m_state.findShot(shotKey);
        const Candidate* kf = e ? e->keyframe.selectedCandidate() : nullptr;
        if (!kf || kf->sha256.isEmpty())
            return blockedBy(QStringLiteral("shot %1 has no chosen keyframe yet").arg(shotKey));
        spec.startSha256 = kf->sha256;
        spec.startSource = QStringLiteral("keyframe");
    }
    if (m_context.endImageSha256) {
        spec.endSha256 = m_context.endImageSha256(*shot);
    } else if (clipNeedsEndKeyframe(*shot)) {
        const ShotEntry* entry = m_state.findShot(shotKey);
        const Candidate* end = entry ? entry->endKeyframe.selectedCandidate() : nullptr;
        if (!end || end->sha256.isEmpty())
            return blockedBy(QStringLiteral("shot %1 has no chosen end keyframe yet").arg(shotKey));
        spec.endSha256 = end->sha256;
    }
    spec.prompt = m_context.clipPrompt
                      ? m_context.clipPrompt(m_story, *shot)
                      : joinNonEmpty({shot->shot.description, shot->shot.camera, shot->shot.motion});
    spec.seed = seedFor(ItemKind::Clip, shotKey);
    spec.profileHash = m_context.clipProfileHash;
    spec.model = m_context.clipModel;
    return ready(InputHasher::clipInputs(spec));
}

bool StoryboardInputs::rendersFromText(const QJsonObject& keyframeInputs)
{
    return keyframeInputs.value(QLatin1String("references")).toArray().isEmpty();
}

CurrentInputs StoryboardInputs::current(ItemKind kind, const QString& key) const
{
    switch (kind) {
    case ItemKind::Reference: return reference(key);
    case ItemKind::Keyframe: return keyframe(key);
    case ItemKind::EndKeyframe: return endKeyframe(key);
    case ItemKind::Clip: return clip(key);
    }
    return {};
}

} // namespace gd::storyboard
