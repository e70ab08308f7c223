#include "sandbox/StoryboardFrameRenderer.h"

#include "sandbox/BitmapFont.h"
#include "sandbox/ImageColours.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QImageReader>
#include <algorithm>
#include <cmath>

namespace gd::sandbox {

namespace {

constexpr int kMinSide = 16;
constexpr int kMaxSide = 8192;
constexpr int kMaxDepth = 16;
// Uploaded references are stills of a few MB; anything far larger is not read (the figure stays grey).
constexpr qint64 kMaxInputBytes = 64LL * 1024 * 1024;

// Stable across processes and platforms (unlike qHash), so a prompt always gets the same colour.
quint32 stableHash(const QString& text, quint32 salt)
{
    QByteArray bytes = text.toUtf8();
    bytes.append(reinterpret_cast<const char*>(&salt), sizeof salt);
    const QByteArray digest = QCryptographicHash::hash(bytes, QCryptographicHash::Md5);
    return (quint32(quint8(digest[0])) << 24) | (quint32(quint8(digest[1])) << 16) |
           (quint32(quint8(digest[2])) << 8) | quint32(quint8(digest[3]));
}

bool isImageSource(const QString& cls)
{
    return cls == QLatin1String("LoadImage");
}

// The LoadImage image name feeding `input` of `nodeId`, followed through image passthrough nodes (VAEEncode
// pixels, ImageScale image, ...); empty when it is not a LoadImage literal.
QString loadImageName(const GraphInspector& graph, const QString& nodeId, const QString& input, int depth)
{
    if (depth > kMaxDepth)
        return {};
    const auto l = graph.link(nodeId, input);
    if (!l)
        return {};
    const QString src = l->first;
    if (isImageSource(graph.classOf(src))) {
        const QJsonValue v = graph.inputsOf(src).value(QStringLiteral("image"));
        return v.isString() ? v.toString() : QString();
    }
    for (const QString& next :
         {QStringLiteral("pixels"), QStringLiteral("image"), QStringLiteral("images")}) {
        const QString name = loadImageName(graph, src, next, depth + 1);
        if (!name.isEmpty())
            return name;
    }
    return {};
}

void fillRect(QImage& image, int x0, int y0, int x1, int y1, QRgb colour)
{
    x0 = std::max(0, x0);
    y0 = std::max(0, y0);
    x1 = std::min(image.width(), x1);
    y1 = std::min(image.height(), y1);
    for (int y = y0; y < y1; ++y) {
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
        std::fill(line + x0, line + std::max(x0, x1), colour);
    }
}

void fillDisc(QImage& image, int cx, int cy, int radius, QRgb colour)
{
    for (int y = std::max(0, cy - radius); y <= std::min(image.height() - 1, cy + radius); ++y) {
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
        const int dy = y - cy;
        const int half = int(std::sqrt(double(radius * radius - dy * dy)));
        for (int x = std::max(0, cx - half); x <= std::min(image.width() - 1, cx + half); ++x)
            line[x] = colour;
    }
}

// A standing figure `height` px tall with its feet at baseY: head, torso, arms (angle from `pose`), legs.
// `side` draws the profile (narrow torso, one arm), `back` leaves the face mark out.
void drawFigure(QImage& image, int cx, int baseY, int height, QRgb colour, quint32 pose, bool side, bool back)
{
    const int head = std::max(2, height / 8);
    const int torsoW = side ? std::max(2, height / 8) : std::max(3, height / 4);
    const int torsoTop = baseY - height + 2 * head;
    const int torsoBottom = baseY - height * 2 / 5;
    fillDisc(image, cx, baseY - height + head, head, colour);
    fillRect(image, cx - torsoW / 2, torsoTop, cx + torsoW / 2 + 1, torsoBottom, colour);
    const int legW = std::max(1, torsoW / 3);
    fillRect(image, cx - torsoW / 2, torsoBottom, cx - torsoW / 2 + legW, baseY, colour);
    fillRect(image, cx + torsoW / 2 + 1 - legW, torsoBottom, cx + torsoW / 2 + 1, baseY, colour);
    // Arms: a short slope whose lift comes from the pose bits.
    const int armLen = height / 3;
    const int lift = int(pose % 5) - 2;
    for (int i = 0; i < armLen; ++i) {
        const int y = torsoTop + head / 2 + i - lift * i / 4;
        const int dx = torsoW / 2 + i / 3;
        fillRect(image, cx + dx, y, cx + dx + std::max(1, legW), y + 1, colour);
        if (!side)
            fillRect(image, cx - dx - std::max(1, legW) + 1, y, cx - dx + 1, y + 1, colour);
    }
    if (!back && !side)
        fillRect(image, cx - head / 3, baseY - height + head - head / 4, cx + head / 3 + 1,
                 baseY - height + head - head / 4 + std::max(1, head / 4), qRgb(245, 235, 220));
}

void drawText(QImage& image, QPoint pos, const QString& text, QRgb ink, int scale)
{
    BitmapFont::drawText(image, pos + QPoint(1, 1), text, qRgb(0, 0, 0), scale);
    BitmapFont::drawText(image, pos, text, ink, scale);
}

QString cut(const QString& text, int chars)
{
    const QString simple = text.simplified();
    return simple.size() <= chars ? simple : simple.left(std::max(0, chars - 3)) + QStringLiteral("...");
}

} // namespace

StoryboardFrameRenderer::StoryboardFrameRenderer(const GraphInspector& graph, const QString& inputDir)
    : m_inputDir(inputDir)
{
    m_prompt = graph.positivePrompt();
    const QStringList ids = graph.nodeIds();

    // Image-to-video first: its graph also holds LoadImage nodes.
    for (const QString& id : ids) {
        const QString cls = graph.classOf(id);
        if (cls != QLatin1String("WanFirstLastFrameToVideo") && cls != QLatin1String("WanImageToVideo"))
            continue;
        const QString start = loadImageName(graph, id, QStringLiteral("start_image"), 0);
        const QString end = loadImageName(graph, id, QStringLiteral("end_image"), 0);
        m_start = readInput(start);
        if (m_start.isNull())
            continue;
        if (!end.isEmpty() && end != start) {
            m_end = readInput(end);
            // The same picture uploaded twice (the app renames identical uploads only when they differ)
            // drifts.
            if (!m_end.isNull() && m_end == m_start)
                m_end = QImage();
        }
        m_kind = Kind::ImageToVideo;
        return;
    }

    QStringList references;
    bool anyLoadImage = false;
    for (const QString& id : ids) {
        const QString cls = graph.classOf(id);
        anyLoadImage = anyLoadImage || isImageSource(cls);
        QString name;
        if (cls == QLatin1String("ReferenceLatent"))
            name = loadImageName(graph, id, QStringLiteral("latent"), 0);
        else if (cls.startsWith(QLatin1String("IPAdapter")))
            name = loadImageName(graph, id, QStringLiteral("image"), 0);
        if (!name.isEmpty() && !references.contains(name))
            references.append(name);
    }
    if (!references.isEmpty()) {
        for (const QString& name : std::as_const(references)) {
            const QColor c = ImageColours::dominant(readInput(name));
            m_figures.append(c.isValid() ? c : QColor(128, 128, 128));
        }
        m_kind = Kind::Keyframe;
        return;
    }

    if (anyLoadImage)
        return;
    // A text-only still is a keyframe or a reference sheet by what its node titles say; the titles decide
    // before the prompt does, because a shot's prompt may well mention a "reference sheet" (a text-only
    // keyframe must never come out as three posed figures). Only an untitled still falls back to the prompt.
    bool stillImage = false;
    bool titleSaysKeyframe = false;
    bool titleSaysSheet = false;
    for (const QString& id : ids) {
        stillImage =
            stillImage || (graph.classOf(id) == QLatin1String("SaveImage") && graph.frameCount(id) == 1);
        const QString title = graph.titleOf(id);
        titleSaysSheet = titleSaysSheet || title.contains(QLatin1String("reference sheet"), Qt::CaseInsensitive);
        titleSaysKeyframe = titleSaysKeyframe || title.contains(QLatin1String("keyframe"), Qt::CaseInsensitive);
    }
    if (!stillImage || (titleSaysSheet && titleSaysKeyframe))
        return; // contradictory titles: plain frames rather than a guess
    if (titleSaysKeyframe)
        m_kind = Kind::Keyframe; // no figures: the shot's background alone
    else if (titleSaysSheet || m_prompt.contains(QLatin1String("reference sheet"), Qt::CaseInsensitive))
        m_kind = Kind::ReferenceSheet;
}

QString StoryboardFrameRenderer::kindName(Kind kind)
{
    switch (kind) {
    case Kind::ReferenceSheet:
        return QStringLiteral("reference_sheet");
    case Kind::Keyframe:
        return QStringLiteral("keyframe");
    case Kind::ImageToVideo:
        return QStringLiteral("image_to_video");
    case Kind::None:
        break;
    }
    return QStringLiteral("none");
}

QImage StoryboardFrameRenderer::readInput(const QString& value) const
{
    QString name = value;
    // Annotated names ("x.png [input]") as LoadImage accepts them; the sandbox only serves its input folder.
    for (const QString& suffix :
         {QStringLiteral(" [input]"), QStringLiteral(" [output]"), QStringLiteral(" [temp]")})
        if (name.endsWith(suffix))
            name.chop(suffix.size());
    if (name.isEmpty() || name.contains(QStringLiteral("..")) || QDir::isAbsolutePath(name))
        return {};
    const QFileInfo info(QDir(m_inputDir).filePath(name));
    if (!info.isFile() || info.size() > kMaxInputBytes)
        return {};
    QImageReader reader(info.filePath());
    const QImage image = reader.read();
    return image.isNull() ? QImage() : image.convertToFormat(QImage::Format_RGB32);
}

QColor StoryboardFrameRenderer::sheetColour(const QString& prompt)
{
    const quint32 h = stableHash(prompt.simplified().toLower(), 0x5eed);
    return QColor::fromHsv(int(h % 360u), 170 + int((h >> 9) % 60u), 170 + int((h >> 17) % 50u));
}

QImage StoryboardFrameRenderer::render(const FrameLabel& label, const QSize& size) const
{
    const int w = std::clamp(size.width(), kMinSide, kMaxSide);
    const int h = std::clamp(size.height(), kMinSide, kMaxSide);
    switch (m_kind) {
    case Kind::ReferenceSheet:
        return renderSheet(label, w, h);
    case Kind::Keyframe:
        return renderKeyframe(label, w, h);
    case Kind::ImageToVideo:
        return renderClip(label, w, h);
    case Kind::None:
        break;
    }
    return FrameRenderer::render(label, size);
}

QImage StoryboardFrameRenderer::renderSheet(const FrameLabel& label, int w, int h) const
{
    QImage image(w, h, QImage::Format_RGB32);
    const quint32 layout = stableHash(QString::number(label.seed), 0x1a70);
    // Plain grey ground with faint horizontal bands whose spacing depends on the seed.
    const int period = 6 + int(layout % 10u);
    for (int y = 0; y < h; ++y) {
        const int g = (y / period) % 2 == 0 ? 196 : 186;
        fillRect(image, 0, y, w, y + 1, qRgb(g, g, g));
    }
    const QRgb colour = sheetColour(m_prompt).rgb();
    const int margin = std::max(2, w / 32);
    const int textScale = std::max(1, h / 90);
    const int textTop = margin;
    const int figureTop = textTop + BitmapFont::textHeight(textScale) + 2 * textScale + margin;
    const int baseY = h - margin;
    const int height = std::max(8, baseY - figureTop);
    // Front, side and back view; the seed shifts the three and changes the arm pose.
    const int shift = int((layout >> 8) % 21u) - 10;
    for (int i = 0; i < 3; ++i) {
        const int cx = w * (2 * i + 1) / 6 + shift * w / 200;
        drawFigure(image, cx, baseY, height, colour, layout >> (12 + 3 * i), i == 1, i == 2);
    }
    const int chars = std::max(4, (w - 2 * margin) / (BitmapFont::cellWidth * textScale));
    drawText(image, QPoint(margin, textTop), cut(m_prompt, chars), qRgb(40, 40, 40), textScale);
    return image;
}

QImage StoryboardFrameRenderer::renderKeyframe(const FrameLabel& label, int w, int h) const
{
    // No lettering: a clean keyframe is what the vision rubric's "borders_or_text" expects of a good candidate.
    QImage image(w, h, QImage::Format_RGB32);
    // The background belongs to the shot (prompt), kept grey enough that the figures carry the colour.
    const quint32 scene = stableHash(m_prompt, 0xb6);
    const QColor sky =
        QColor::fromHsv(int(scene % 360u), 25 + int((scene >> 9) % 25u), 110 + int((scene >> 17) % 40u));
    const QColor ground = sky.darker(160);
    const quint32 layout = stableHash(QString::number(label.seed), 0x4e7);
    const int horizon = h * (55 + int(layout % 15u)) / 100;
    fillRect(image, 0, 0, w, horizon, sky.rgb());
    fillRect(image, 0, horizon, w, h, ground.rgb());

    const int n = int(m_figures.size());
    for (int i = 0; i < n; ++i) {
        const quint32 f = stableHash(QString::number(i), layout);
        const int slot = w / (n + 1);
        const int cx = slot * (i + 1) + (int(f % 41u) - 20) * slot / 100;
        const int baseY = h - h / 12 - int((f >> 8) % 8u) * h / 100;
        const int height = h * (55 + int((f >> 16) % 20u)) / 100;
        drawFigure(image, cx, baseY, height, m_figures.at(i).rgb(), f >> 20, false, false);
    }
    return image;
}

QImage StoryboardFrameRenderer::renderClip(const FrameLabel& label, int w, int h) const
{
    const int count = std::max(1, label.frameCount);
    const double t =
        count > 1 ? double(std::clamp(label.frameNumber, 1, count) - 1) / double(count - 1) : 0.0;
    const QImage start = m_start.scaled(w, h, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    if (!m_end.isNull()) {
        const QImage end = m_end.scaled(w, h, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        QImage image(w, h, QImage::Format_RGB32);
        for (int y = 0; y < h; ++y) {
            const auto* a = reinterpret_cast<const QRgb*>(start.constScanLine(y));
            const auto* b = reinterpret_cast<const QRgb*>(end.constScanLine(y));
            auto* out = reinterpret_cast<QRgb*>(image.scanLine(y));
            for (int x = 0; x < w; ++x)
                out[x] = qRgb(int(std::lround(qRed(a[x]) * (1 - t) + qRed(b[x]) * t)),
                              int(std::lround(qGreen(a[x]) * (1 - t) + qGreen(b[x]) * t)),
                              int(std::lround(qBlue(a[x]) * (1 - t) + qBlue(b[x]) * t)));
        }
        return image;
    }
    // Drift: zoom in by up to 20 % while panning in a direction the seed picks; frame 1 is the start image.
    const double zoom = 1.0 + 0.2 * t;
    const double angle =
        double(stableHash(QString::number(label.seed), 0xd71f) % 360u) * 3.14159265358979 / 180.0;
    const double cw = w / zoom, ch = h / zoom;
    const double cx = std::clamp(w / 2.0 + std::cos(angle) * (w - cw) / 2.0 * t * 2.0, cw / 2, w - cw / 2);
    const double cy = std::clamp(h / 2.0 + std::sin(angle) * (h - ch) / 2.0 * t * 2.0, ch / 2, h - ch / 2);
    const QRect crop(int(std::lround(cx - cw / 2)), int(std::lround(cy - ch / 2)),
                     std::max(1, int(std::lround(cw))), std::max(1, int(std::lround(ch))));
    return start.copy(crop).scaled(w, h, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
}

} // namespace gd::sandbox
