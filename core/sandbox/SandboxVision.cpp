#include "sandbox/SandboxVision.h"

#include "sandbox/PngText.h"

#include <QImage>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <cmath>

namespace gd::sandbox {

namespace {

const QSet<QString> kStopWords{
    QStringLiteral("the"),  QStringLiteral("and"),   QStringLiteral("with"),  QStringLiteral("for"),
    QStringLiteral("from"), QStringLiteral("into"),  QStringLiteral("its"),   QStringLiteral("this"),
    QStringLiteral("that"), QStringLiteral("are"),   QStringLiteral("was"),   QStringLiteral("were"),
    QStringLiteral("his"),  QStringLiteral("her"),   QStringLiteral("their"), QStringLiteral("they"),
    QStringLiteral("them"), QStringLiteral("scene"), QStringLiteral("she"),   QStringLiteral("him"),
    QStringLiteral("has"),  QStringLiteral("have"),  QStringLiteral("not"),   QStringLiteral("but"),
    QStringLiteral("out"),  QStringLiteral("over"),  QStringLiteral("under"), QStringLiteral("onto"),
    QStringLiteral("very")};

const QSet<QString> kCameraWords{
    QStringLiteral("shot"),   QStringLiteral("wide"),  QStringLiteral("close"),    QStringLiteral("closeup"),
    QStringLiteral("dolly"),  QStringLiteral("pan"),   QStringLiteral("tracking"), QStringLiteral("aerial"),
    QStringLiteral("medium"), QStringLiteral("angle"), QStringLiteral("zoom"),     QStringLiteral("framing")};

struct NamedColour
{
    const char* name;
    int r, g, b;
};

const NamedColour kColours[] = {
    {"black", 10, 10, 10},    {"white", 240, 240, 240}, {"grey", 128, 128, 128}, {"red", 200, 40, 40},
    {"orange", 230, 130, 40}, {"yellow", 220, 210, 60}, {"green", 60, 170, 70},  {"teal", 40, 150, 150},
    {"blue", 50, 80, 200},    {"purple", 130, 60, 170}, {"pink", 230, 130, 180}, {"brown", 120, 80, 40},
    {"navy", 20, 30, 90},     {"olive", 110, 110, 40},  {"maroon", 110, 20, 40}, {"cyan", 80, 210, 230}};

QString colourName(const QImage& image)
{
    if (image.isNull())
        return QStringLiteral("indistinct");
    const QImage small = image.convertToFormat(QImage::Format_RGB32)
                             .scaled(32, 32, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    double r = 0, g = 0, b = 0;
    for (int y = 0; y < small.height(); ++y)
        for (int x = 0; x < small.width(); ++x) {
            const QRgb p = small.pixel(x, y);
            r += qRed(p);
            g += qGreen(p);
            b += qBlue(p);
        }
    const double n = double(small.width()) * small.height();
    r /= n;
    g /= n;
    b /= n;
    const NamedColour* best = &kColours[0];
    double bestDistance = 1e18;
    for (const NamedColour& c : kColours) {
        const double d = (r - c.r) * (r - c.r) + (g - c.g) * (g - c.g) + (b - c.b) * (b - c.b);
        if (d < bestDistance) {
            bestDistance = d;
            best = &c;
        }
    }
    const double luma = 0.299 * r + 0.587 * g + 0.114 * b;
    const QString shade = luma < 70    ? QStringLiteral("dark ")
                          : luma > 190 ? QStringLiteral("light ")
                                       : QString();
    return shade + QLatin1String(best->name);
}

// Share of `needles` that occur in `haystack` (1 when there are no needles to find).
double coverage(const QStringList& needles, const QSet<QString>& haystack)
{
    const QSet<QString> unique(needles.cbegin(), needles.cend());
    if (unique.isEmpty())
        return 0.0;
    int found = 0;
    for (const QString& w : unique)
        if (haystack.contains(w))
            ++found;
    return double(found) / unique.size();
}

int clampScore(double v, int lo, int hi)
{
    return std::clamp(int(std::lround(v)), lo, hi);
}

QJsonObject coherence(const QString& storyText)
{
    // Scenes are the lines that start with "Scene"; continuity = share of neighbouring scenes that share a
    // content word (a character, a place, an object).
    QList<QSet<QString>> scenes;
    for (const QString& line : storyText.split(QLatin1Char('\n'))) {
        if (!line.trimmed().startsWith(QLatin1String("Scene"), Qt::CaseInsensitive))
            continue;
        const QStringList words = SandboxVision::contentWords(line.section(QLatin1Char(':'), 1, -1));
        scenes.append(QSet<QString>(words.cbegin(), words.cend()));
    }
    QJsonArray reasons;
    int score = 3;
    if (scenes.size() < 2) {
        reasons.append(QStringLiteral("Too few scenes to judge continuity between them."));
    } else {
        int linked = 0;
        for (int i = 1; i < scenes.size(); ++i)
            if (scenes.at(i).intersects(scenes.at(i - 1)))
                ++linked;
        const double share = double(linked) / (scenes.size() - 1);
        score = clampScore(1.0 + 4.0 * share, 1, 5);
        reasons.append(QStringLiteral("%1 of %2 scene transitions keep a shared character, place or object.")
                           .arg(linked)
                           .arg(scenes.size() - 1));
        reasons.append(share >= 0.75 ? QStringLiteral("The setting stays consistent from scene to scene.")
                                     : QStringLiteral("Several scenes do not follow from the one before."));
    }
    return QJsonObject{{QStringLiteral("score"), score}, {QStringLiteral("reasons"), reasons}};
}

QJsonObject alignment(const QString& userText, const QList<QByteArray>& images)
{
    const QStringList asked = SandboxVision::contentWords(userText);
    const QSet<QString> askedSet(asked.cbegin(), asked.cend());
    QJsonArray reasons;
    if (images.isEmpty()) {
        reasons.append(QStringLiteral("No image was attached."));
        return QJsonObject{{QStringLiteral("scene"), 0},
                           {QStringLiteral("action"), 0},
                           {QStringLiteral("camera"), 0},
                           {QStringLiteral("reasons"), reasons}};
    }
    const std::optional<QString> shown = SandboxVision::promptTextOf(images.first());
    if (!shown) {
        reasons.append(QStringLiteral("The frame shows %1 colours only; the scene is not recognisable.")
                           .arg(colourName(QImage::fromData(images.first()))));
        return QJsonObject{{QStringLiteral("scene"), 1},
                           {QStringLiteral("action"), 0},
                           {QStringLiteral("camera"), 1},
                           {QStringLiteral("reasons"), reasons}};
    }
    const QStringList shownWords = SandboxVision::contentWords(*shown);
    const double p = coverage(shownWords, askedSet);
    QStringList cameraShown;
    for (const QString& w : shownWords)
        if (kCameraWords.contains(w))
            cameraShown << w;
    const int scene = clampScore(4.0 * p, 0, 4);
    const int action = clampScore(4.0 * p - (p < 1.0 ? 0.5 : 0.0), 0, 4);
    const int camera = cameraShown.isEmpty() ? clampScore(3.0 * p, 0, 4)
                                             : clampScore(4.0 * coverage(cameraShown, askedSet), 0, 4);
    reasons.append(
        QStringLiteral("%1% of what the frame shows is named in the prompt.").arg(qRound(100 * p)));
    reasons.append(cameraShown.isEmpty()
                       ? QStringLiteral("No explicit framing to compare.")
                       : QStringLiteral("Framing seen: %1.").arg(cameraShown.join(QStringLiteral(", "))));
    return QJsonObject{{QStringLiteral("scene"), scene},
                       {QStringLiteral("action"), action},
                       {QStringLiteral("camera"), camera},
                       {QStringLiteral("reasons"), reasons}};
}

} // namespace

QStringList SandboxVision::contentWords(const QString& text)
{
    static const QRegularExpression word(QStringLiteral("[\\p{L}\\p{N}']+"),
                                         QRegularExpression::UseUnicodePropertiesOption);
    QStringList out;
    auto it = word.globalMatch(text.toLower());
    while (it.hasNext()) {
        const QString w = it.next().captured(0);
        if (w.size() >= 3 && !kStopWords.contains(w))
            out << w;
    }
    return out;
}

bool SandboxVision::hasImageParts(const QJsonArray& messages)
{
    for (const QJsonValue& m : messages)
        for (const QJsonValue& part : m.toObject().value(QStringLiteral("content")).toArray())
            if (part.toObject().value(QStringLiteral("type")).toString() == QLatin1String("image_url"))
                return true;
    return false;
}

SandboxVision::Images SandboxVision::images(const QJsonArray& messages)
{
    // LM Studio (§5): base64 data URLs only, PNG or JPEG; http(s) URLs and (on some builds) webp are refused
    // with this wording.
    const QString bad = QStringLiteral("'url' field must be a base64 encoded image.");
    static const QRegularExpression dataUrl(QStringLiteral("^data:image/(png|jpeg|jpg);base64,(.*)$"),
                                            QRegularExpression::DotMatchesEverythingOption);
    Images out;
    for (const QJsonValue& m : messages) {
        for (const QJsonValue& partValue : m.toObject().value(QStringLiteral("content")).toArray()) {
            const QJsonObject part = partValue.toObject();
            if (part.value(QStringLiteral("type")).toString() != QLatin1String("image_url"))
                continue;
            const QString url =
                part.value(QStringLiteral("image_url")).toObject().value(QStringLiteral("url")).toString();
            const auto match = dataUrl.match(url);
            if (!match.hasMatch()) {
                out.error = bad;
                return out;
            }
            const auto decoded = QByteArray::fromBase64Encoding(match.captured(2).toLatin1(),
                                                                QByteArray::AbortOnBase64DecodingErrors);
            if (!decoded || decoded.decoded.isEmpty() || QImage::fromData(decoded.decoded).isNull()) {
                out.error = bad;
                return out;
            }
            out.images.append(decoded.decoded);
        }
    }
    return out;
}

std::optional<QString> SandboxVision::promptTextOf(const QByteArray& png)
{
    const auto chunk = PngText::readText(png, QByteArrayLiteral("prompt"));
    if (!chunk)
        return std::nullopt;
    const QJsonObject graph = QJsonDocument::fromJson(*chunk).object();
    auto textOf = [&graph](const QString& id) -> std::optional<QString> {
        const QJsonObject node = graph.value(id).toObject();
        if (!node.value(QStringLiteral("class_type")).toString().startsWith(QLatin1String("CLIPTextEncode")))
            return std::nullopt;
        const QJsonValue text = node.value(QStringLiteral("inputs")).toObject().value(QStringLiteral("text"));
        if (!text.isString())
            return std::nullopt;
        return text.toString();
    };
    // The positive conditioning of a sampler, else the longest CLIPTextEncode text.
    for (auto it = graph.begin(); it != graph.end(); ++it) {
        const QJsonObject node = it->toObject();
        if (!node.value(QStringLiteral("class_type")).toString().contains(QLatin1String("Sampler")))
            continue;
        const QJsonArray link =
            node.value(QStringLiteral("inputs")).toObject().value(QStringLiteral("positive")).toArray();
        if (link.size() == 2 && link.at(0).isString())
            if (const auto text = textOf(link.at(0).toString()))
                return text;
    }
    std::optional<QString> longest;
    for (auto it = graph.begin(); it != graph.end(); ++it)
        if (const auto text = textOf(it.key()); text && (!longest || text->size() > longest->size()))
            longest = text;
    return longest;
}

QString SandboxVision::caption(const QByteArray& image)
{
    const QString colour = colourName(QImage::fromData(image));
    const std::optional<QString> text = promptTextOf(image);
    if (!text || text->trimmed().isEmpty())
        return QStringLiteral("A frame in %1 tones with white lettering and a progress bar.").arg(colour);
    QStringList words = text->simplified().split(QLatin1Char(' '));
    if (words.size() > 40)
        words = words.mid(0, 40);
    return QStringLiteral("A frame showing %1, in %2 tones.").arg(words.join(QLatin1Char(' ')), colour);
}

std::optional<QJsonObject> SandboxVision::judge(const QJsonObject& schema, const QString& userText,
                                                const QList<QByteArray>& images)
{
    const QJsonObject properties = schema.value(QStringLiteral("properties")).toObject();
    if (properties.contains(QStringLiteral("scene")) && properties.contains(QStringLiteral("action")) &&
        properties.contains(QStringLiteral("camera")))
        return alignment(userText, images);
    if (properties.contains(QStringLiteral("score")) && properties.contains(QStringLiteral("reasons")) &&
        properties.size() == 2)
        return coherence(userText);
    return std::nullopt;
}

} // namespace gd::sandbox
