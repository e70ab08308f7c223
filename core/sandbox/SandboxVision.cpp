#include "sandbox/SandboxVision.h"

#include "sandbox/FigureFinder.h"
#include "sandbox/ImageColours.h"
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

// The characters of a keyframe rubric request, from the lines KeyframeJudge writes:
// "Character <n>: <name> (reference sheet: image <k>)" or "Character <n>: <name> (no reference sheet: ...)".
struct RubricCharacter
{
    QString name;
    int image = 0; // 1-based index of the sheet among the request's images; 0 without a sheet
};

QList<RubricCharacter> rubricCharacters(const QString& userText)
{
    static const QRegularExpression line(
        QStringLiteral(
            "^Character \\d+: (.+) \\((?:reference sheet: image (\\d+)|no reference sheet[^)]*)\\)\\s*$"),
        QRegularExpression::MultilineOption);
    QList<RubricCharacter> out;
    auto it = line.globalMatch(userText);
    while (it.hasNext()) {
        const auto m = it.next();
        out.append({m.captured(1).trimmed(), m.captured(2).toInt()});
    }
    return out;
}

// The lines after "Shot description:" up to the next blank line; the whole text when there is no such header.
QString shotDescription(const QString& userText)
{
    const qsizetype at = userText.indexOf(QLatin1String("Shot description:"));
    if (at < 0)
        return userText;
    const QString rest = userText.mid(at + 17);
    const qsizetype end = rest.indexOf(QLatin1String("\n\n"));
    return end < 0 ? rest : rest.left(end);
}

// Identity band from the colour distance between a sheet's dominant colour and the closest figure.
int identityBand(double distance)
{
    if (distance <= 30)
        return 4;
    if (distance <= 60)
        return 3;
    if (distance <= 100)
        return 2;
    if (distance <= 160)
        return 1;
    return 0;
}

// A border is an outer band (top, bottom, left or right) of at least two uniform lines of one colour that
// differs clearly from what lies just inside it: letterboxing and frames, not a plain sky that simply
// continues inwards. Bands thicker than a quarter of the side are not borders but the picture.
bool hasBorder(const QImage& source)
{
    if (source.isNull())
        return false;
    const QImage image = source.convertToFormat(QImage::Format_RGB32);
    const int w = image.width(), h = image.height();
    // Line i of a side (0 = outermost): its pixels.
    auto line = [&image, w, h](int side, int i) {
        QVector<QRgb> out;
        const bool row = side < 2;
        const int n = row ? w : h;
        out.reserve(n);
        for (int k = 0; k < n; ++k) {
            const int x = row ? k : (side == 2 ? i : w - 1 - i);
            const int y = row ? (side == 0 ? i : h - 1 - i) : k;
            out.append(image.pixel(x, y));
        }
        return out;
    };
    auto distance = [](QRgb a, QRgb b) {
        return std::hypot(std::hypot(double(qRed(a) - qRed(b)), double(qGreen(a) - qGreen(b))),
                          double(qBlue(a) - qBlue(b)));
    };
    for (int side = 0; side < 4; ++side) {
        const int depth = side < 2 ? h : w;
        const QRgb colour = line(side, 0).first();
        int thickness = 0;
        while (thickness < depth / 4) {
            bool uniform = true;
            for (const QRgb p : line(side, thickness))
                uniform = uniform && distance(p, colour) <= 12.0;
            if (!uniform)
                break;
            ++thickness;
        }
        if (thickness < 2 || thickness >= depth / 4)
            continue;
        // The line just inside: mostly something else than the band's colour.
        const QVector<QRgb> inside = line(side, thickness);
        int differs = 0;
        for (const QRgb p : inside)
            differs += distance(p, colour) >= 40.0 ? 1 : 0;
        if (differs * 2 > inside.size())
            return true;
    }
    return false;
}

QJsonObject keyframeRubric(const QString& userText, const QList<QByteArray>& images)
{
    const QList<RubricCharacter> characters = rubricCharacters(userText);
    QJsonArray identities;
    QStringList reasons;
    if (images.isEmpty()) {
        for (const RubricCharacter& c : characters)
            if (c.image > 0)
                identities.append(
                    QJsonObject{{QStringLiteral("name"), c.name}, {QStringLiteral("identity"), 0}});
        return QJsonObject{{QStringLiteral("description_match"), 0},
                           {QStringLiteral("character_count"), 0},
                           {QStringLiteral("characters"), identities},
                           {QStringLiteral("borders_or_text"), false},
                           {QStringLiteral("score"), 0},
                           {QStringLiteral("reasons"), QStringLiteral("No image was attached.")}};
    }
    const QImage candidate = QImage::fromData(images.first());
    const QVector<FigureFinder::Figure> figures = FigureFinder::find(candidate);

    // Description: share of the description's content words the candidate's prompt (tEXt chunk) names.
    const QStringList asked = SandboxVision::contentWords(shotDescription(userText));
    int match = 0;
    if (const std::optional<QString> shown = SandboxVision::promptTextOf(images.first())) {
        const QStringList shownWords = SandboxVision::contentWords(*shown);
        const double p = coverage(asked, QSet<QString>(shownWords.cbegin(), shownWords.cend()));
        match = clampScore(4.0 * p, 0, 4);
        reasons << QStringLiteral("%1% of the description is in the keyframe.").arg(qRound(100 * p));
    } else {
        reasons << QStringLiteral("The keyframe's content is not recognisable.");
    }

    // Identity: each sheet's dominant colour against the closest figure's colour.
    double identitySum = 0;
    int judged = 0;
    for (const RubricCharacter& c : characters) {
        if (c.image <= 0)
            continue;
        int identity = 0;
        // "image <k>" counts the candidate as image 1.
        if (c.image >= 2 && c.image <= images.size() && !figures.isEmpty()) {
            const QColor sheet = ImageColours::dominant(QImage::fromData(images.at(c.image - 1)));
            double best = 1e9;
            for (const FigureFinder::Figure& f : figures)
                best = std::min(best, FigureFinder::distance(sheet, f.colour));
            identity = identityBand(best);
        }
        identities.append(
            QJsonObject{{QStringLiteral("name"), c.name}, {QStringLiteral("identity"), identity}});
        identitySum += identity;
        ++judged;
    }
    const bool borders = hasBorder(candidate);
    const int expected = int(characters.size());
    const double countFit =
        std::exp(-std::abs(int(figures.size()) - expected) / double(std::max(expected, 1)));
    const double identityFit = judged > 0 ? identitySum / (4.0 * judged) : 1.0;
    const double score = std::round(100.0 * (0.35 * match / 4.0 + 0.25 * countFit + 0.3 * identityFit +
                                             (borders ? 0.0 : 0.1))) /
                         10.0;
    reasons << QStringLiteral("%1 figure(s) seen, %2 expected.").arg(figures.size()).arg(expected);
    if (judged > 0)
        reasons << QStringLiteral("Mean identity %1 of 4.").arg(identitySum / judged, 0, 'f', 1);
    if (borders)
        reasons << QStringLiteral("The frame has a border.");
    return QJsonObject{{QStringLiteral("description_match"), match},
                       {QStringLiteral("character_count"), int(figures.size())},
                       {QStringLiteral("characters"), identities},
                       {QStringLiteral("borders_or_text"), borders},
                       {QStringLiteral("score"), std::clamp(score, 0.0, 10.0)},
                       {QStringLiteral("reasons"), reasons.join(QLatin1Char(' '))}};
}

// Mean absolute luma difference (0..255) of two images on a 16x16 smooth copy: composition, not detail.
double layoutDifference(const QImage& a, const QImage& b)
{
    const QImage sa = a.convertToFormat(QImage::Format_RGB32)
                          .scaled(16, 16, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    const QImage sb = b.convertToFormat(QImage::Format_RGB32)
                          .scaled(16, 16, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    double sum = 0;
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x)
            sum += std::abs(qGray(sa.pixel(x, y)) - qGray(sb.pixel(x, y)));
    return sum / 256.0;
}

QJsonObject sameness(const QList<QByteArray>& images)
{
    if (images.size() < 2)
        return QJsonObject{{QStringLiteral("same_identity"), false},
                           {QStringLiteral("same_layout"), false},
                           {QStringLiteral("reasons"), QStringLiteral("Two images are needed to compare.")}};
    const QImage a = QImage::fromData(images.at(0));
    const QImage b = QImage::fromData(images.at(1));
    // Same identity: the same number of figures, each of A matched by a distinct figure of B of its colour.
    const QVector<FigureFinder::Figure> fa = FigureFinder::find(a);
    QVector<FigureFinder::Figure> fb = FigureFinder::find(b);
    bool sameIdentity = fa.size() == fb.size();
    for (const FigureFinder::Figure& f : fa) {
        if (!sameIdentity)
            break;
        qsizetype best = -1;
        double bestDistance = 31.0;
        for (qsizetype i = 0; i < fb.size(); ++i) {
            const double d = FigureFinder::distance(f.colour, fb.at(i).colour);
            if (d < bestDistance) {
                bestDistance = d;
                best = i;
            }
        }
        if (best < 0)
            sameIdentity = false;
        else
            fb.remove(best);
    }
    const double difference = layoutDifference(a, b);
    const bool sameLayout = difference <= 10.0;
    return QJsonObject{
        {QStringLiteral("same_identity"), sameIdentity},
        {QStringLiteral("same_layout"), sameLayout},
        {QStringLiteral("reasons"),
         QStringLiteral("%1 and %2 figure(s), %3; composition differs by %4 of 255.")
             .arg(fa.size())
             .arg(FigureFinder::find(b).size())
             .arg(sameIdentity ? QStringLiteral("the same colours") : QStringLiteral("different colours"))
             .arg(difference, 0, 'f', 1)}};
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
    // The positive conditioning of a sampler — followed back through conditioning chains such as
    // ReferenceLatent (keyframe graphs), a bounded number of steps — else the longest CLIPTextEncode text.
    for (auto it = graph.begin(); it != graph.end(); ++it) {
        const QJsonObject node = it->toObject();
        if (!node.value(QStringLiteral("class_type")).toString().contains(QLatin1String("Sampler")))
            continue;
        QJsonArray link =
            node.value(QStringLiteral("inputs")).toObject().value(QStringLiteral("positive")).toArray();
        for (int step = 0; step < 16 && link.size() == 2 && link.at(0).isString(); ++step) {
            if (const auto text = textOf(link.at(0).toString()))
                return text;
            const QJsonObject inputs =
                graph.value(link.at(0).toString()).toObject().value(QStringLiteral("inputs")).toObject();
            link = inputs.value(QStringLiteral("conditioning")).toArray();
            if (link.isEmpty())
                link = inputs.value(QStringLiteral("positive")).toArray();
        }
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
    if (properties.contains(QStringLiteral("description_match")) &&
        properties.contains(QStringLiteral("character_count")))
        return keyframeRubric(userText, images);
    if (properties.contains(QStringLiteral("same_identity")) &&
        properties.contains(QStringLiteral("same_layout")))
        return sameness(images);
    if (properties.contains(QStringLiteral("scene")) && properties.contains(QStringLiteral("action")) &&
        properties.contains(QStringLiteral("camera")))
        return alignment(userText, images);
    if (properties.contains(QStringLiteral("score")) && properties.contains(QStringLiteral("reasons")) &&
        properties.size() == 2)
        return coherence(userText);
    return std::nullopt;
}

} // namespace gd::sandbox
