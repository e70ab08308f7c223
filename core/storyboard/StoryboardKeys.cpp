#include "storyboard/StoryboardKeys.h"

#include "common/SafePath.h"

#include <QCryptographicHash>

namespace gd::storyboard {

namespace {

const QString kCharacterPrefix = QStringLiteral("character:");
const QString kLocationPrefix = QStringLiteral("location:");

// A shot key part as a folder name: kept when it is already a safe bare name (scene-001, shot-01).
QString safePart(const QString& part)
{
    return SafePath::isSafeFileName(part) && !part.startsWith(QLatin1Char('.')) ? part : StoryboardKeys::slug(part);
}

QString shotSubdir(const QString& root, const QString& shotKey)
{
    const int slash = shotKey.indexOf(QLatin1Char('/'));
    if (slash <= 0 || slash == shotKey.size() - 1)
        return {};
    return root + QLatin1Char('/') + safePart(shotKey.left(slash)) + QLatin1Char('/') +
           safePart(shotKey.mid(slash + 1));
}

} // namespace

QString StoryboardKeys::character(const QString& name, const QString& look)
{
    return kCharacterPrefix + name + QLatin1Char('#') + look;
}

QString StoryboardKeys::location(const QString& name)
{
    return kLocationPrefix + name;
}

QString StoryboardKeys::style()
{
    return QStringLiteral("style");
}

QString StoryboardKeys::shot(const QString& sceneId, const QString& shotId)
{
    return sceneId + QLatin1Char('/') + shotId;
}

QString StoryboardKeys::displayName(const QString& referenceKey)
{
    if (referenceKey.startsWith(kCharacterPrefix))
        return referenceKey.mid(kCharacterPrefix.size());
    if (referenceKey.startsWith(kLocationPrefix))
        return referenceKey.mid(kLocationPrefix.size());
    return referenceKey;
}

bool StoryboardKeys::isReferenceKey(const QString& key)
{
    if (key == style())
        return true;
    if (key.startsWith(kLocationPrefix))
        return key.size() > kLocationPrefix.size();
    if (key.startsWith(kCharacterPrefix)) {
        // The look id follows the last '#': names may contain '#', look ids may not.
        const int hash = key.lastIndexOf(QLatin1Char('#'));
        return hash > kCharacterPrefix.size() && hash < key.size() - 1;
    }
    return false;
}

QString StoryboardKeys::slug(const QString& text)
{
    QString out;
    out.reserve(text.size());
    bool dash = false;
    for (const QChar c : text) {
        if (c.isLetterOrNumber()) {
            if (dash && !out.isEmpty())
                out += QLatin1Char('-');
            out += c.toLower();
            dash = false;
        } else {
            dash = true;
        }
    }
    if (out.isEmpty()) {
        // Nothing printable survived (e.g. only punctuation): a stable name from the text's hash.
        out = QStringLiteral("x-") +
              QString::fromLatin1(
                  QCryptographicHash::hash(text.toUtf8(), QCryptographicHash::Sha256).toHex().left(12));
    }
    return out;
}

QString StoryboardKeys::referenceDir(const QString& referenceKey)
{
    if (!isReferenceKey(referenceKey))
        return {};
    if (referenceKey == style())
        return QStringLiteral("refs/_style");
    if (referenceKey.startsWith(kLocationPrefix))
        return QStringLiteral("refs/_locations/") + slug(referenceKey.mid(kLocationPrefix.size()));
    const int hash = referenceKey.lastIndexOf(QLatin1Char('#'));
    const QString name = referenceKey.mid(kCharacterPrefix.size(), hash - kCharacterPrefix.size());
    return QStringLiteral("refs/") + slug(name) + QLatin1Char('/') + slug(referenceKey.mid(hash + 1));
}

QString StoryboardKeys::keyframeDir(const QString& shotKey)
{
    return shotSubdir(QStringLiteral("keyframes"), shotKey);
}

QString StoryboardKeys::clipDir(const QString& shotKey)
{
    return shotSubdir(QStringLiteral("clips"), shotKey);
}

QString StoryboardKeys::endKeyframeDir(const QString& shotKey)
{
    const QString dir = keyframeDir(shotKey);
    return dir.isEmpty() ? QString() : dir + QStringLiteral("/end");
}

QString StoryboardKeys::endKeyframe(const QString& shotKey)
{
    return shotKey + QStringLiteral("#end");
}

bool StoryboardKeys::isEndKeyframeKey(const QString& key)
{
    return !shotOfEndKeyframe(key).isEmpty();
}

QString StoryboardKeys::shotOfEndKeyframe(const QString& key)
{
    if (!key.endsWith(QLatin1String("#end")) || key.startsWith(QLatin1String("character:")))
        return {};
    const QString shot = key.chopped(4);
    return shot.contains(QLatin1Char('/')) && !shot.contains(QLatin1Char('#')) ? shot : QString();
}

} // namespace gd::storyboard
