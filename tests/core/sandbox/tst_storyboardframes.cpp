// What the sandbox ComfyUI renders for the storyboard image graphs (issue 8): reference sheets coloured by
// the character+look prompt, keyframes whose figures carry the dominant colour of each uploaded reference,
// and image-to-video clips that move from the start image to the end image (or drift from the keyframe);
// seeds vary the layout so best-of-N candidates differ.
#include "SandboxTestSupport.h"
#include "sandbox/GraphInspector.h"
#include "sandbox/ImageColours.h"
#include "sandbox/NodeCatalog.h"
#include "sandbox/StoryboardFrameRenderer.h"

#include <QFile>
#include <QImage>
#include <QSet>
#include <QtTest>
#include <cmath>

using namespace gd::sandbox;
using namespace sbtest;

namespace {

const QSize kSize(320, 180);

QJsonObject builtinGraph(const char* name)
{
    QFile f(QStringLiteral(GD_SOURCE_DIR "/resources/workflows/%1.json").arg(QLatin1String(name)));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QJsonDocument::fromJson(f.readAll()).object();
}

void setInput(QJsonObject& graph, const char* node, const char* input, const QJsonValue& value)
{
    QJsonObject n = graph.value(QLatin1String(node)).toObject();
    QJsonObject inputs = n.value(QStringLiteral("inputs")).toObject();
    inputs.insert(QLatin1String(input), value);
    n.insert(QStringLiteral("inputs"), inputs);
    graph.insert(QLatin1String(node), n);
}

int distance(const QColor& a, const QColor& b)
{
    const int dr = a.red() - b.red(), dg = a.green() - b.green(), db = a.blue() - b.blue();
    return int(std::lround(std::sqrt(double(dr * dr + dg * dg + db * db))));
}

// Mean absolute difference per channel (0..255).
double meanDifference(const QImage& a, const QImage& b)
{
    if (a.size() != b.size())
        return 255.0;
    double sum = 0;
    for (int y = 0; y < a.height(); ++y)
        for (int x = 0; x < a.width(); ++x) {
            const QRgb p = a.pixel(x, y), q = b.pixel(x, y);
            sum +=
                std::abs(qRed(p) - qRed(q)) + std::abs(qGreen(p) - qGreen(q)) + std::abs(qBlue(p) - qBlue(q));
        }
    return sum / (3.0 * a.width() * a.height());
}

FrameLabel label(quint32 seed, int frame = 1, int frames = 1)
{
    FrameLabel l;
    l.title = QStringLiteral("shot-01");
    l.seed = seed;
    l.frameNumber = frame;
    l.frameCount = frames;
    return l;
}

QJsonObject sheetGraph(const QString& prompt, qint64 seed)
{
    QJsonObject g = builtinGraph("sandbox-reference-sheet");
    setInput(g, "2", "text", prompt);
    setInput(g, "5", "seed", seed);
    return g;
}

QJsonObject keyframeGraph(const QString& ref0, const QString& ref1, qint64 seed)
{
    QJsonObject g = builtinGraph("sandbox-keyframe");
    setInput(g, "2", "text", QStringLiteral("Mara Voss and Ivo Brandt in the lamp room at dusk"));
    setInput(g, "4", "image", ref0);
    setInput(g, "5", "image", ref1);
    setInput(g, "11", "seed", seed);
    return g;
}

// Renders a graph the way the sandbox executor does (same GraphInspector, same input folder).
QImage renderGraph(const QJsonObject& graph, const QString& inputDir, StoryboardFrameRenderer::Kind expected,
                   int frame = 1, int frames = 1)
{
    const NodeCatalog catalog = NodeCatalog::builtin();
    const GraphInspector inspector(graph, catalog, inputDir);
    const StoryboardFrameRenderer renderer(inspector, inputDir);
    if (renderer.kind() != expected)
        return {};
    return renderer.render(label(inspector.seed(), frame, frames), kSize);
}

QImage solid(const QColor& colour)
{
    QImage image(kSize, QImage::Format_RGB32);
    image.fill(colour);
    return image;
}

} // namespace

class TestStoryboardFrames : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { QVERIFY(m_dir.isValid()); }
    void sheetColourFollowsThePromptNotTheSeed();
    void keyframeFiguresCarryTheReferenceColours();
    void oneReferenceInEverySlotIsOneFigure();
    void seedsGiveDifferentCandidates();
    void clipMovesFromStartToEnd();
    void clipWithoutEndImageDriftsFromTheKeyframe();
    void textKeyframeIsABackgroundNeverASheet();
    void otherGraphsKeepPlainFrames();
    void unreadableReferenceGivesAGreyFigure();
    void keyframeThroughTheServerCarriesPromptChunk();
    void ipadapterGraphIsRefusedLikeAStockServer();

private:
    QString input(const QString& name) const { return QDir(m_dir.path()).filePath(name); }
    QTemporaryDir m_dir;
};

void TestStoryboardFrames::sheetColourFollowsThePromptNotTheSeed()
{
    const QString mara =
        QStringLiteral("character reference sheet, Mara Voss, orange storm coat, soaked hair");
    const QString ivo = QStringLiteral("character reference sheet, Ivo Brandt, grey fisherman sweater");
    const QImage a =
        renderGraph(sheetGraph(mara, 1), m_dir.path(), StoryboardFrameRenderer::Kind::ReferenceSheet);
    const QImage b =
        renderGraph(sheetGraph(mara, 2), m_dir.path(), StoryboardFrameRenderer::Kind::ReferenceSheet);
    const QImage c =
        renderGraph(sheetGraph(ivo, 1), m_dir.path(), StoryboardFrameRenderer::Kind::ReferenceSheet);
    QVERIFY(!a.isNull() && !b.isNull() && !c.isNull());
    const QColor expected = StoryboardFrameRenderer::sheetColour(mara);
    QVERIFY(distance(ImageColours::dominant(a), expected) <= 2);
    QVERIFY(distance(ImageColours::dominant(b), expected) <= 2);
    QVERIFY(meanDifference(a, b) > 1.0); // another candidate, same character colour
    QVERIFY2(distance(ImageColours::dominant(c), expected) > 60,
             qPrintable(ImageColours::dominant(c).name() + QLatin1Char(' ') + expected.name()));
    // The figures carry the colour: a measurable part of the sheet, not a speck.
    QVERIFY(ImageColours::shareNear(a, expected, 20) > 0.08);
}

void TestStoryboardFrames::keyframeFiguresCarryTheReferenceColours()
{
    // Two approved sheets rendered by the sandbox itself, as the storyboard would upload them.
    const QString maraPrompt = QStringLiteral("character reference sheet, Mara Voss, orange storm coat");
    const QString ivoPrompt = QStringLiteral("character reference sheet, Ivo Brandt, grey fisherman sweater");
    const QImage maraSheet =
        renderGraph(sheetGraph(maraPrompt, 7), m_dir.path(), StoryboardFrameRenderer::Kind::ReferenceSheet);
    const QImage ivoSheet =
        renderGraph(sheetGraph(ivoPrompt, 7), m_dir.path(), StoryboardFrameRenderer::Kind::ReferenceSheet);
    QVERIFY(QDir().mkpath(input(QStringLiteral("gemdirect/run-1"))));
    QVERIFY(maraSheet.save(input(QStringLiteral("gemdirect/run-1/mara.png"))));
    QVERIFY(ivoSheet.save(input(QStringLiteral("gemdirect/run-1/ivo.png"))));

    const NodeCatalog catalog = NodeCatalog::builtin();
    const QJsonObject graph = keyframeGraph(QStringLiteral("gemdirect/run-1/mara.png"),
                                            QStringLiteral("gemdirect/run-1/ivo.png"), 3);
    const GraphInspector inspector(graph, catalog, m_dir.path());
    const StoryboardFrameRenderer renderer(inspector, m_dir.path());
    QCOMPARE(renderer.kind(), StoryboardFrameRenderer::Kind::Keyframe);
    const QColor mara = StoryboardFrameRenderer::sheetColour(maraPrompt);
    const QColor ivo = StoryboardFrameRenderer::sheetColour(ivoPrompt);
    QCOMPARE(renderer.figureColours().size(), 2);
    QVERIFY(distance(renderer.figureColours().at(0), mara) <= 2);
    QVERIFY(distance(renderer.figureColours().at(1), ivo) <= 2);

    const QImage keyframe = renderer.render(label(inspector.seed()), kSize);
    QVERIFY(ImageColours::shareNear(keyframe, mara, 20) > 0.03);
    QVERIFY(ImageColours::shareNear(keyframe, ivo, 20) > 0.03);
    const QColor dominant = ImageColours::dominant(keyframe);
    QVERIFY(distance(dominant, mara) <= 2 || distance(dominant, ivo) <= 2);
}

void TestStoryboardFrames::oneReferenceInEverySlotIsOneFigure()
{
    const QColor teal(20, 160, 150);
    QVERIFY(solid(teal).save(input(QStringLiteral("teal.png"))));
    const NodeCatalog catalog = NodeCatalog::builtin();
    // The builder repeats a shot's only reference into every slot; the sandbox paints one figure for it.
    const QJsonObject graph = keyframeGraph(QStringLiteral("teal.png"), QStringLiteral("teal.png"), 5);
    const GraphInspector inspector(graph, catalog, m_dir.path());
    const StoryboardFrameRenderer renderer(inspector, m_dir.path());
    QCOMPARE(renderer.figureColours().size(), 1);
    const QImage keyframe = renderer.render(label(5), kSize);
    // The reference's colour dominates the figure: the saturated pixels of the keyframe are the teal figure.
    QVERIFY(distance(ImageColours::dominant(keyframe), teal) <= 2);
    QVERIFY(ImageColours::shareNear(keyframe, teal, 10) > 0.03);
}

void TestStoryboardFrames::seedsGiveDifferentCandidates()
{
    QVERIFY(solid(QColor(200, 40, 40)).save(input(QStringLiteral("red.png"))));
    QVERIFY(solid(QColor(40, 60, 210)).save(input(QStringLiteral("blue.png"))));
    const auto kind = StoryboardFrameRenderer::Kind::Keyframe;
    const QImage one = renderGraph(keyframeGraph(QStringLiteral("red.png"), QStringLiteral("blue.png"), 1),
                                   m_dir.path(), kind);
    const QImage again = renderGraph(keyframeGraph(QStringLiteral("red.png"), QStringLiteral("blue.png"), 1),
                                     m_dir.path(), kind);
    const QImage two = renderGraph(keyframeGraph(QStringLiteral("red.png"), QStringLiteral("blue.png"), 2),
                                   m_dir.path(), kind);
    QVERIFY(!one.isNull() && !two.isNull());
    QCOMPARE(one, again); // deterministic per seed
    QVERIFY2(meanDifference(one, two) > 2.0, qPrintable(QString::number(meanDifference(one, two))));
}

void TestStoryboardFrames::clipMovesFromStartToEnd()
{
    QImage start(kSize, QImage::Format_RGB32);
    for (int y = 0; y < start.height(); ++y)
        for (int x = 0; x < start.width(); ++x)
            start.setPixel(x, y, qRgb(200, x * 255 / start.width(), 40));
    const QImage end = solid(QColor(30, 60, 200));
    QVERIFY(start.save(input(QStringLiteral("kf.png"))));
    QVERIFY(end.save(input(QStringLiteral("last.png"))));
    QJsonObject graph = builtinGraph("sandbox-i2v");
    setInput(graph, "4", "image", QStringLiteral("kf.png"));
    setInput(graph, "5", "image", QStringLiteral("last.png"));
    const NodeCatalog catalog = NodeCatalog::builtin();
    const GraphInspector inspector(graph, catalog, m_dir.path());
    QCOMPARE(inspector.frameCount(QStringLiteral("9")), 17);
    const auto kind = StoryboardFrameRenderer::Kind::ImageToVideo;
    const QImage first = renderGraph(graph, m_dir.path(), kind, 1, 17);
    const QImage middle = renderGraph(graph, m_dir.path(), kind, 9, 17);
    const QImage last = renderGraph(graph, m_dir.path(), kind, 17, 17);
    QVERIFY(meanDifference(first, start) < 2.0);
    QVERIFY(meanDifference(last, end) < 2.0);
    QVERIFY(meanDifference(middle, start) > 20.0);
    QVERIFY(meanDifference(middle, end) > 20.0);
}

void TestStoryboardFrames::clipWithoutEndImageDriftsFromTheKeyframe()
{
    QImage start(kSize, QImage::Format_RGB32);
    for (int y = 0; y < start.height(); ++y)
        for (int x = 0; x < start.width(); ++x)
            start.setPixel(x, y, qRgb((x * 7) % 256, (y * 5) % 256, 120));
    QVERIFY(start.save(input(QStringLiteral("kf.png"))));
    QJsonObject graph = builtinGraph("sandbox-i2v");
    // What WorkflowBuilder sends for a shot without lastFrame: the keyframe in both slots.
    setInput(graph, "4", "image", QStringLiteral("kf.png"));
    setInput(graph, "5", "image", QStringLiteral("kf.png"));
    const auto kind = StoryboardFrameRenderer::Kind::ImageToVideo;
    const QImage first = renderGraph(graph, m_dir.path(), kind, 1, 17);
    const QImage last = renderGraph(graph, m_dir.path(), kind, 17, 17);
    QVERIFY(meanDifference(first, start) < 2.0);
    QVERIFY(meanDifference(last, start) > 10.0); // it moved
    setInput(graph, "7", "seed", 99);
    const QImage otherWay = renderGraph(graph, m_dir.path(), kind, 17, 17);
    QVERIFY(meanDifference(otherWay, last) > 5.0);
}

void TestStoryboardFrames::textKeyframeIsABackgroundNeverASheet()
{
    // A shot prompt that happens to say "reference sheet": the graph's titles make it a keyframe.
    const QString prompt = QStringLiteral("the keeper pins a character reference sheet to the lamp room wall");
    QJsonObject graph = builtinGraph("sandbox-keyframe-text");
    QVERIFY(!graph.isEmpty());
    setInput(graph, "2", "text", prompt);
    setInput(graph, "11", "seed", 5);
    const NodeCatalog catalog = NodeCatalog::builtin();
    const GraphInspector inspector(graph, catalog, m_dir.path());
    const StoryboardFrameRenderer renderer(inspector, m_dir.path());
    QCOMPARE(renderer.kind(), StoryboardFrameRenderer::Kind::Keyframe);
    QVERIFY(renderer.figureColours().isEmpty());
    const QImage frame = renderer.render(label(inspector.seed()), kSize);
    QVERIFY(!frame.isNull());
    // Background only: sky and ground, no figure, no lettering, none of the sheet's colour.
    QSet<QRgb> colours;
    for (int y = 0; y < frame.height(); ++y)
        for (int x = 0; x < frame.width(); ++x)
            colours.insert(frame.pixel(x, y));
    QCOMPARE(colours.size(), 2);
    QVERIFY(ImageColours::shareNear(frame, StoryboardFrameRenderer::sheetColour(prompt), 20) < 0.01);

    // The same prompt through the sheet graph is a sheet; a still whose titles say both is neither.
    QCOMPARE(StoryboardFrameRenderer(GraphInspector(sheetGraph(prompt, 5), catalog, m_dir.path()), m_dir.path()).kind(),
             StoryboardFrameRenderer::Kind::ReferenceSheet);
    QJsonObject both = graph;
    QJsonObject save = both.value(QStringLiteral("13")).toObject();
    save.insert(QStringLiteral("_meta"), QJsonObject{{QStringLiteral("title"), QStringLiteral("Save reference sheet")}});
    both.insert(QStringLiteral("13"), save);
    QCOMPARE(StoryboardFrameRenderer(GraphInspector(both, catalog, m_dir.path()), m_dir.path()).kind(),
             StoryboardFrameRenderer::Kind::None);
}

void TestStoryboardFrames::otherGraphsKeepPlainFrames()
{
    const NodeCatalog catalog = NodeCatalog::builtin();
    for (const QJsonObject& graph :
         {t2iGraph(QStringLiteral("scene-001/frame"), 1), t2iGraph(QStringLiteral("x"), 4),
          builtinGraph("sandbox"), builtinGraph("svd-img2vid")}) {
        const GraphInspector inspector(graph, catalog, m_dir.path());
        QCOMPARE(StoryboardFrameRenderer(inspector, m_dir.path()).kind(),
                 StoryboardFrameRenderer::Kind::None);
    }
}

void TestStoryboardFrames::unreadableReferenceGivesAGreyFigure()
{
    QFile notImage(input(QStringLiteral("notes.png")));
    QVERIFY(notImage.open(QIODevice::WriteOnly) && notImage.write("this is not a PNG") > 0);
    notImage.close();
    const NodeCatalog catalog = NodeCatalog::builtin();
    for (const QString& name :
         {QStringLiteral("notes.png"), QStringLiteral("../escape.png"), QStringLiteral("/etc/passwd")}) {
        const GraphInspector inspector(keyframeGraph(name, name, 1), catalog, m_dir.path());
        const StoryboardFrameRenderer renderer(inspector, m_dir.path());
        QCOMPARE(renderer.kind(), StoryboardFrameRenderer::Kind::Keyframe);
        QCOMPARE(renderer.figureColours(), QVector<QColor>{QColor(128, 128, 128)});
        QVERIFY(!renderer.render(label(1), kSize).isNull());
    }
}

void TestStoryboardFrames::keyframeThroughTheServerCarriesPromptChunk()
{
    ServerFixture f;
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("sb")));
    const QColor orange(230, 120, 30);
    QVERIFY(QDir().mkpath(f.config.inputDir + QStringLiteral("/gemdirect")));
    QVERIFY(solid(orange).save(f.config.inputDir + QStringLiteral("/gemdirect/mara.png")));
    QJsonObject graph =
        keyframeGraph(QStringLiteral("gemdirect/mara.png"), QStringLiteral("gemdirect/mara.png"), 11);
    setInput(graph, "13", "filename_prefix", QStringLiteral("keyframes/scene-001/shot-01/v1-c1"));
    const Reply r = http.postJson(QStringLiteral("/prompt"), promptBody(graph, QStringLiteral("sb")));
    QCOMPARE(r.status, 200);
    QVERIFY(ws.waitForDone(r.json().value(QStringLiteral("prompt_id")).toString()) >= 0);
    const QString file = f.out(QStringLiteral("keyframes/scene-001/shot-01/v1-c1_00001_.png"));
    QImage keyframe(file);
    QVERIFY2(!keyframe.isNull(), qPrintable(filesUnder(f.out()).join(QLatin1Char(','))));
    QVERIFY(distance(ImageColours::dominant(keyframe), orange) <= 2);
    // Like SaveImage: the API graph rides along as tEXt "prompt".
    const QJsonObject stored =
        QJsonDocument::fromJson(keyframe.text(QStringLiteral("prompt")).toUtf8()).object();
    QCOMPARE(stored.value(QStringLiteral("4"))
                 .toObject()
                 .value(QStringLiteral("inputs"))
                 .toObject()
                 .value(QStringLiteral("image"))
                 .toString(),
             QStringLiteral("gemdirect/mara.png"));
}

void TestStoryboardFrames::ipadapterGraphIsRefusedLikeAStockServer()
{
    ServerFixture f;
    Http http(f.url());
    QVERIFY(solid(Qt::red).save(f.config.inputDir + QStringLiteral("/example.png")));
    for (const char* cls : {"IPAdapterUnifiedLoader", "IPAdapterAdvanced"})
        QCOMPARE(http.get(QStringLiteral("/object_info/") + QLatin1String(cls)).body, QByteArray("{}"));
    const Reply r =
        http.postJson(QStringLiteral("/prompt"), promptBody(builtinGraph("sdxl-ipadapter-keyframe")));
    QCOMPARE(r.status, 400);
    const QJsonObject error = r.json().value(QStringLiteral("error")).toObject();
    QCOMPARE(error.value(QStringLiteral("type")).toString(), QStringLiteral("invalid_prompt"));
    QVERIFY2(error.value(QStringLiteral("message")).toString().contains(QLatin1String("IPAdapter")) &&
                 error.value(QStringLiteral("message")).toString().endsWith(QLatin1String("does not exist.")),
             qPrintable(error.value(QStringLiteral("message")).toString()));
}

QTEST_GUILESS_MAIN(TestStoryboardFrames)
#include "tst_storyboardframes.moc"
