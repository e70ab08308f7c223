// Files the sandbox ComfyUI server writes and serves: SaveImage naming and counters, frame counts traced
// through the graph, GemDirectSaveFrames frames + atomic done marker, /view of frames, uploads with
// rename/dedup, video outputs.
#include "SandboxTestSupport.h"

#include <QFile>
#include <QHttpMultiPart>
#include <QImage>
#include <QtTest>
#include <tuple>

using namespace sbtest;

namespace {
using GraphEdit = std::function<void(QJsonObject&)>;

QJsonObject node(const QString& cls, const QJsonObject& inputs)
{
    return QJsonObject{{QStringLiteral("class_type"), cls}, {QStringLiteral("inputs"), inputs}};
}

QString run(Http& http, WsClient& ws, const QJsonObject& graph)
{
    const Reply r = http.postJson(QStringLiteral("/prompt"), promptBody(graph, QStringLiteral("out")));
    if (r.status != 200)
        return QStringLiteral("HTTP %1: %2").arg(r.status).arg(QString::fromUtf8(r.body));
    const QString id = r.json().value(QStringLiteral("prompt_id")).toString();
    return ws.waitForDone(id) >= 0 ? id : QStringLiteral("timeout");
}

QJsonObject outputsOf(Http& http, const QString& id)
{
    return http.get(QStringLiteral("/history/") + id)
        .json()
        .value(id)
        .toObject()
        .value(QStringLiteral("outputs"))
        .toObject();
}

Reply upload(Http& http, const QString& fileName, const QByteArray& bytes,
             const QList<QPair<QString, QString>>& fields)
{
    auto* multi = new QHttpMultiPart(QHttpMultiPart::FormDataType);
    QHttpPart image;
    image.setHeader(QNetworkRequest::ContentDispositionHeader,
                    QStringLiteral("form-data; name=\"image\"; filename=\"%1\"").arg(fileName));
    image.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("image/png"));
    image.setBody(bytes);
    multi->append(image);
    for (const auto& field : fields) {
        QHttpPart part;
        part.setHeader(QNetworkRequest::ContentDispositionHeader,
                       QStringLiteral("form-data; name=\"%1\"").arg(field.first));
        part.setBody(field.second.toUtf8());
        multi->append(part);
    }
    QNetworkReply* reply = http.nam().post(http.request(QStringLiteral("/upload/image")), multi);
    multi->setParent(reply);
    return wait(reply);
}
} // namespace

Q_DECLARE_METATYPE(GraphEdit)

class TestSandboxOutputs : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void saveImageNamingAndCounters();
    void frameCountFollowsTheGraph_data();
    void frameCountFollowsTheGraph();
    void doneMarkerNodeWritesFramesThenMarker();
    void markerNodeCanBeUninstalled();
    void viewServesFrames();
    void viewRefusesEscapes_data();
    void viewRefusesEscapes();
    void uploadRenamesAndDeduplicates();
    void uploadRejectsBadRequests();
    void saveVideoWritesOneMp4();
    void vhsVideoCombineWritesGifsEntry();
    void previewImageGoesToTemp();
    void bundledWorkflowsRun_data();
    void bundledWorkflowsRun();
    void reuseFramesDropsOnlyTheSceneFromThePicture_data();
    void reuseFramesDropsOnlyTheSceneFromThePicture();
};

void TestSandboxOutputs::reuseFramesDropsOnlyTheSceneFromThePicture_data()
{
    QTest::addColumn<bool>("reuse");
    QTest::newRow("default: every frame shows its scene") << false;
    QTest::newRow("reuseFrames (benchmarks)") << true;
}

void TestSandboxOutputs::reuseFramesDropsOnlyTheSceneFromThePicture()
{
    QFETCH(bool, reuse);
    ServerFixture f([reuse](gd::sandbox::SandboxConfig& c) {
        c.frameSize = QSize(64, 36);
        c.reuseFrames = reuse;
    });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    for (const auto& [prefix, text, seed] :
         {std::tuple{QStringLiteral("reuse/scene-001_a1"), QStringLiteral("a keeper"), 7},
          std::tuple{QStringLiteral("reuse/scene-002_a1"), QStringLiteral("a storm"), 8}}) {
        const QString id = run(http, ws, t2iGraph(prefix, 2, 1, text, QStringLiteral("SaveImage"), seed));
        QVERIFY2(!id.startsWith(QLatin1String("HTTP")) && id != QLatin1String("timeout"), qPrintable(id));
    }
    const auto frame = [&f](const QString& name) {
        return QImage(f.out(QStringLiteral("reuse/") + name)).convertToFormat(QImage::Format_RGB32);
    };
    const QImage a1 = frame(QStringLiteral("scene-001_a1_00001_.png"));
    const QImage a2 = frame(QStringLiteral("scene-001_a1_00002_.png"));
    const QImage b1 = frame(QStringLiteral("scene-002_a1_00001_.png"));
    QCOMPARE(a1.size(), QSize(64, 36));
    QCOMPARE(b1.size(), QSize(64, 36));
    QVERIFY(a1 != a2); // frames of one scene stay distinct either way
    QCOMPARE(a1 == b1, reuse);
}

void TestSandboxOutputs::saveImageNamingAndCounters()
{
    ServerFixture f;
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    const QString first = run(http, ws, t2iGraph(QStringLiteral("jobs/abc/frame"), 3, 1));
    QCOMPARE(filesUnder(f.out()), (QStringList{QStringLiteral("jobs/abc/frame_00001_.png"),
                                               QStringLiteral("jobs/abc/frame_00002_.png"),
                                               QStringLiteral("jobs/abc/frame_00003_.png")}));
    const QJsonArray images = outputsOf(http, first)
                                  .value(QStringLiteral("9"))
                                  .toObject()
                                  .value(QStringLiteral("images"))
                                  .toArray();
    QCOMPARE(images.size(), 3);
    QCOMPARE(images.at(2).toObject(),
             (QJsonObject{{QStringLiteral("filename"), QStringLiteral("frame_00003_.png")},
                          {QStringLiteral("subfolder"), QStringLiteral("jobs/abc")},
                          {QStringLiteral("type"), QStringLiteral("output")}}));
    // A new seed re-renders; the counter continues after the existing files.
    const QString second = run(http, ws,
                               t2iGraph(QStringLiteral("jobs/abc/frame"), 2, 1, QStringLiteral("other"),
                                        QStringLiteral("SaveImage"), 7));
    const QJsonArray more = outputsOf(http, second)
                                .value(QStringLiteral("9"))
                                .toObject()
                                .value(QStringLiteral("images"))
                                .toArray();
    QCOMPARE(more.first().toObject().value(QStringLiteral("filename")).toString(),
             QStringLiteral("frame_00004_.png"));
    QCOMPARE(more.last().toObject().value(QStringLiteral("filename")).toString(),
             QStringLiteral("frame_00005_.png"));
    QImage frame(f.out(QStringLiteral("jobs/abc/frame_00005_.png")));
    QCOMPARE(frame.size(), QSize(320, 180));
}

void TestSandboxOutputs::frameCountFollowsTheGraph_data()
{
    QTest::addColumn<GraphEdit>("edit");
    QTest::addColumn<int>("frames");
    QTest::newRow("EmptyLatentImage.batch_size") << GraphEdit([](QJsonObject&) {}) << 4;
    QTest::newRow("EmptySD3LatentImage.batch_size") << GraphEdit([](QJsonObject& g) {
        g.insert(QStringLiteral("5"),
                 node(QStringLiteral("EmptySD3LatentImage"), {{QStringLiteral("width"), 512},
                                                              {QStringLiteral("height"), 512},
                                                              {QStringLiteral("batch_size"), 3}}));
    }) << 3;
    QTest::newRow("EmptyHunyuanLatentVideo length 10 -> 9") << GraphEdit([](QJsonObject& g) {
        g.insert(QStringLiteral("5"),
                 node(QStringLiteral("EmptyHunyuanLatentVideo"), {{QStringLiteral("width"), 512},
                                                                  {QStringLiteral("height"), 512},
                                                                  {QStringLiteral("length"), 10},
                                                                  {QStringLiteral("batch_size"), 1}}));
    }) << 9;
    QTest::newRow("Wan22ImageToVideoLatent length 13") << GraphEdit([](QJsonObject& g) {
        g.insert(QStringLiteral("5"),
                 node(QStringLiteral("Wan22ImageToVideoLatent"), {{QStringLiteral("vae"), link("4", 2)},
                                                                  {QStringLiteral("width"), 512},
                                                                  {QStringLiteral("height"), 512},
                                                                  {QStringLiteral("length"), 13},
                                                                  {QStringLiteral("batch_size"), 1}}));
    }) << 13;
    QTest::newRow("EmptyImage straight into SaveImage") << GraphEdit([](QJsonObject& g) {
        g = QJsonObject{
            {QStringLiteral("1"), node(QStringLiteral("EmptyImage"), {{QStringLiteral("width"), 64},
                                                                      {QStringLiteral("height"), 64},
                                                                      {QStringLiteral("batch_size"), 6},
                                                                      {QStringLiteral("color"), 255}})},
            {QStringLiteral("2"), node(QStringLiteral("SaveImage"), {{QStringLiteral("images"), link("1", 0)},
                                                                     {QStringLiteral("filename_prefix"),
                                                                      QStringLiteral("count/frame")}})}};
    }) << 6;
    QTest::newRow("maxFrames caps the batch") << GraphEdit([](QJsonObject& g) {
        g = QJsonObject{
            {QStringLiteral("1"), node(QStringLiteral("EmptyImage"), {{QStringLiteral("width"), 64},
                                                                      {QStringLiteral("height"), 64},
                                                                      {QStringLiteral("batch_size"), 500},
                                                                      {QStringLiteral("color"), 0}})},
            {QStringLiteral("2"), node(QStringLiteral("SaveImage"), {{QStringLiteral("images"), link("1", 0)},
                                                                     {QStringLiteral("filename_prefix"),
                                                                      QStringLiteral("count/frame")}})}};
    }) << 20;
}

void TestSandboxOutputs::frameCountFollowsTheGraph()
{
    QFETCH(GraphEdit, edit);
    QFETCH(int, frames);
    ServerFixture f([](gd::sandbox::SandboxConfig& c) {
        c.maxFrames = 20;
        c.frameSize = QSize(64, 36);
    });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    QJsonObject graph = t2iGraph(QStringLiteral("count/frame"), 4, 1);
    edit(graph);
    const QString id = run(http, ws, graph);
    QVERIFY2(!id.startsWith(QLatin1String("HTTP")) && id != QLatin1String("timeout"), qPrintable(id));
    QCOMPARE(filesUnder(f.out(QStringLiteral("count"))).size(), frames);
}

void TestSandboxOutputs::doneMarkerNodeWritesFramesThenMarker()
{
    ServerFixture f;
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    const QString prefix = QStringLiteral("gemdirect/run-7/scene-003_a1");
    const QString id = run(http, ws,
                           t2iGraph(prefix, 3, 2, QStringLiteral("keeper climbs the stair"),
                                    QStringLiteral("GemDirectSaveFrames")));
    const QStringList files = filesUnder(f.out());
    QCOMPARE(files, (QStringList{QStringLiteral("gemdirect/run-7/scene-003_a1.done"),
                                 QStringLiteral("gemdirect/run-7/scene-003_a1_00001_.png"),
                                 QStringLiteral("gemdirect/run-7/scene-003_a1_00002_.png"),
                                 QStringLiteral("gemdirect/run-7/scene-003_a1_00003_.png")}));
    QFile markerFile(f.out(QStringLiteral("gemdirect/run-7/scene-003_a1.done")));
    QVERIFY(markerFile.open(QIODevice::ReadOnly));
    const QJsonObject marker = QJsonDocument::fromJson(markerFile.readAll()).object();
    QCOMPARE(marker.value(QStringLiteral("job_id")).toString(), QStringLiteral("job-scene-003_a1"));
    QCOMPARE(marker.value(QStringLiteral("prompt_id")).toString(), id);
    QCOMPARE(marker.value(QStringLiteral("frames")).toArray(),
             (QJsonArray{QStringLiteral("scene-003_a1_00001_.png"), QStringLiteral("scene-003_a1_00002_.png"),
                         QStringLiteral("scene-003_a1_00003_.png")}));
    QCOMPARE(marker.value(QStringLiteral("count")).toInt(), 3);
    QCOMPARE(marker.value(QStringLiteral("subfolder")).toString(), QStringLiteral("gemdirect/run-7"));
    QCOMPARE(marker.value(QStringLiteral("width")).toInt(), 320);
    QCOMPARE(marker.value(QStringLiteral("height")).toInt(), 180);
    QCOMPARE(marker.value(QStringLiteral("fps")).toDouble(), 12.0);
    QVERIFY(QDateTime::fromString(marker.value(QStringLiteral("finished_at")).toString(), Qt::ISODateWithMs)
                .isValid());
    // the UI output names the marker next to the frames, in the WS message and in history
    const QJsonObject executed =
        ws.ofType(QStringLiteral("executed")).last().value(QStringLiteral("output")).toObject();
    const QJsonObject expectedMarker{{QStringLiteral("filename"), QStringLiteral("scene-003_a1.done")},
                                     {QStringLiteral("subfolder"), QStringLiteral("gemdirect/run-7")},
                                     {QStringLiteral("type"), QStringLiteral("output")}};
    QCOMPARE(executed.value(QStringLiteral("done_marker")).toArray(), QJsonArray{expectedMarker});
    QCOMPARE(executed.value(QStringLiteral("images")).toArray().size(), 3);
    QCOMPARE(outputsOf(http, id).value(QStringLiteral("9")).toObject(), executed);
    // IS_CHANGED is NaN: an identical resubmission runs again and publishes a new marker
    const QString again = run(http, ws,
                              t2iGraph(prefix, 3, 2, QStringLiteral("keeper climbs the stair"),
                                       QStringLiteral("GemDirectSaveFrames")));
    QFile second(f.out(QStringLiteral("gemdirect/run-7/scene-003_a1.done")));
    QVERIFY(second.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(second.readAll()).object().value(QStringLiteral("prompt_id")).toString(),
             again);
    QVERIFY(filesUnder(f.out()).filter(QStringLiteral(".tmp")).isEmpty());
}

void TestSandboxOutputs::markerNodeCanBeUninstalled()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.markerNodeInstalled = false; });
    Http http(f.url());
    QCOMPARE(http.get(QStringLiteral("/object_info/GemDirectSaveFrames")).body, QByteArray("{}"));
    const Reply r = http.postJson(QStringLiteral("/prompt"),
                                  promptBody(t2iGraph(QStringLiteral("m/x"), 1, 1, QStringLiteral("t"),
                                                      QStringLiteral("GemDirectSaveFrames"))));
    QCOMPARE(r.status, 400);
    QCOMPARE(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
             QStringLiteral("invalid_prompt"));
    f.server->setMarkerNodeInstalled(true);
    const QJsonObject info = http.get(QStringLiteral("/object_info/GemDirectSaveFrames"))
                                 .json()
                                 .value(QStringLiteral("GemDirectSaveFrames"))
                                 .toObject();
    QCOMPARE(info.value(QStringLiteral("category")).toString(), QStringLiteral("gemdirect"));
    QCOMPARE(info.value(QStringLiteral("output_node")).toBool(), true);
}

void TestSandboxOutputs::viewServesFrames()
{
    ServerFixture f;
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    run(http, ws, t2iGraph(QStringLiteral("view me/frame"), 2, 1));
    const Reply r =
        http.get(QStringLiteral("/api/view?filename=frame_00002_.png&subfolder=view%20me&type=output"));
    QCOMPARE(r.status, 200);
    QCOMPARE(r.header("Content-Type"), QByteArray("image/png"));
    QCOMPARE(r.header("Content-Disposition"), QByteArray("filename=\"frame_00002_.png\""));
    QImage image;
    QVERIFY(image.loadFromData(r.body, "PNG"));
    QCOMPARE(image.size(), QSize(320, 180));
    // frames differ from one another
    QImage other;
    QVERIFY(other.loadFromData(
        http.get(QStringLiteral("/view?filename=frame_00001_.png&subfolder=view%20me")).body, "PNG"));
    QVERIFY(other != image);
}

void TestSandboxOutputs::viewRefusesEscapes_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<int>("status");
    QTest::newRow("dotdot in filename") << QStringLiteral("filename=../secret.png") << 400;
    QTest::newRow("absolute filename") << QStringLiteral("filename=/etc/passwd") << 400;
    QTest::newRow("unknown type") << QStringLiteral("filename=a.png&type=models") << 400;
    QTest::newRow("absolute subfolder") << QStringLiteral("filename=passwd&subfolder=/etc") << 403;
    QTest::newRow("climbing subfolder") << QStringLiteral("filename=a.png&subfolder=x/../../input") << 403;
    QTest::newRow("missing file") << QStringLiteral("filename=nothing.png") << 404;
    QTest::newRow("no filename") << QStringLiteral("type=output") << 404;
}

void TestSandboxOutputs::viewRefusesEscapes()
{
    QFETCH(QString, query);
    QFETCH(int, status);
    ServerFixture f;
    Http http(f.url());
    QCOMPARE(http.get(QStringLiteral("/view?") + query).status, status);
}

void TestSandboxOutputs::uploadRenamesAndDeduplicates()
{
    ServerFixture f;
    Http http(f.url());
    Reply r = upload(http, QStringLiteral("key.png"), "AAAA", {});
    QCOMPARE(r.status, 200);
    QCOMPARE(r.json(), (QJsonObject{{QStringLiteral("name"), QStringLiteral("key.png")},
                                    {QStringLiteral("subfolder"), QString()},
                                    {QStringLiteral("type"), QStringLiteral("input")}}));
    // identical bytes: same name, nothing written
    r = upload(http, QStringLiteral("key.png"), "AAAA", {});
    QCOMPARE(r.json().value(QStringLiteral("name")).toString(), QStringLiteral("key.png"));
    // different bytes: "stem (1).ext", then "(2)"
    r = upload(http, QStringLiteral("key.png"), "BBBB", {});
    QCOMPARE(r.json().value(QStringLiteral("name")).toString(), QStringLiteral("key (1).png"));
    r = upload(http, QStringLiteral("key.png"), "CCCC", {});
    QCOMPARE(r.json().value(QStringLiteral("name")).toString(), QStringLiteral("key (2).png"));
    r = upload(http, QStringLiteral("key.png"), "BBBB", {});
    QCOMPARE(r.json().value(QStringLiteral("name")).toString(), QStringLiteral("key (1).png"));
    QCOMPARE(QDir(f.server->config().inputDir).entryList(QDir::Files).size(), 3);
    // overwrite replaces in place
    r = upload(http, QStringLiteral("key.png"), "DDDD",
               {{QStringLiteral("overwrite"), QStringLiteral("true")}});
    QCOMPARE(r.json().value(QStringLiteral("name")).toString(), QStringLiteral("key.png"));
    QFile key(QDir(f.server->config().inputDir).filePath(QStringLiteral("key.png")));
    QVERIFY(key.open(QIODevice::ReadOnly));
    QCOMPARE(key.readAll(), QByteArray("DDDD"));
    // subfolder and type are honoured and echoed
    r = upload(http, QStringLiteral("k.png"), "EEEE",
               {{QStringLiteral("subfolder"), QStringLiteral("keys/s1")},
                {QStringLiteral("type"), QStringLiteral("temp")}});
    QCOMPARE(r.json(), (QJsonObject{{QStringLiteral("name"), QStringLiteral("k.png")},
                                    {QStringLiteral("subfolder"), QStringLiteral("keys/s1")},
                                    {QStringLiteral("type"), QStringLiteral("temp")}}));
    QVERIFY(QFile::exists(QDir(f.server->config().tempDir).filePath(QStringLiteral("keys/s1/k.png"))));
    // an uploaded image feeds LoadImage
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    const QJsonObject graph{
        {QStringLiteral("1"),
         QJsonObject{{QStringLiteral("class_type"), QStringLiteral("LoadImage")},
                     {QStringLiteral("inputs"),
                      QJsonObject{{QStringLiteral("image"), QStringLiteral("key (1).png")}}}}},
        {QStringLiteral("2"),
         QJsonObject{{QStringLiteral("class_type"), QStringLiteral("SaveImage")},
                     {QStringLiteral("inputs"),
                      QJsonObject{{QStringLiteral("images"), link("1", 0)},
                                  {QStringLiteral("filename_prefix"), QStringLiteral("li/f")}}}}}};
    const QString id = run(http, ws, graph);
    QCOMPARE(outputsOf(http, id)
                 .value(QStringLiteral("2"))
                 .toObject()
                 .value(QStringLiteral("images"))
                 .toArray()
                 .size(),
             1);
    QJsonObject missing = graph;
    missing.insert(QStringLiteral("1"),
                   QJsonObject{{QStringLiteral("class_type"), QStringLiteral("LoadImage")},
                               {QStringLiteral("inputs"),
                                QJsonObject{{QStringLiteral("image"), QStringLiteral("nope.png")}}}});
    const Reply bad = http.postJson(QStringLiteral("/prompt"), promptBody(missing));
    QCOMPARE(bad.status, 400);
    QVERIFY(bad.body.contains("custom_validation_failed"));
}

void TestSandboxOutputs::uploadRejectsBadRequests()
{
    ServerFixture f;
    Http http(f.url());
    QCOMPARE(upload(http, QStringLiteral("../escape.png"), "X", {}).status, 400);
    QCOMPARE(
        upload(http, QStringLiteral("a.png"), "X", {{QStringLiteral("subfolder"), QStringLiteral("../../x")}})
            .status,
        400);
    QCOMPARE(upload(http, QString(), "X", {}).status, 400);
    QCOMPARE(upload(http, QStringLiteral("a.png"), "X", {{QStringLiteral("type"), QStringLiteral("models")}})
                 .status,
             500);
    QCOMPARE(http.post(QStringLiteral("/upload/image"), "not multipart", "text/plain").status, 400);
    QVERIFY(filesUnder(f.dir.path()).filter(QStringLiteral("escape")).isEmpty());
}

void TestSandboxOutputs::saveVideoWritesOneMp4()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.frameSize = QSize(64, 36); });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    QJsonObject graph = t2iGraph(QStringLiteral("vid/frames"), 5, 1);
    graph.remove(QStringLiteral("9"));
    graph.insert(QStringLiteral("10"),
                 node(QStringLiteral("CreateVideo"),
                      {{QStringLiteral("images"), link("8", 0)}, {QStringLiteral("fps"), 8.0}}));
    graph.insert(QStringLiteral("11"), node(QStringLiteral("SaveVideo"),
                                            {{QStringLiteral("video"), link("10", 0)},
                                             {QStringLiteral("filename_prefix"), QStringLiteral("vid/clip")},
                                             {QStringLiteral("format"), QStringLiteral("mp4")},
                                             {QStringLiteral("codec"), QStringLiteral("h264")}}));
    const QString id = run(http, ws, graph);
    QCOMPARE(filesUnder(f.out()), QStringList{QStringLiteral("vid/clip_00001_.mp4")});
    const QJsonObject ui = outputsOf(http, id).value(QStringLiteral("11")).toObject();
    QCOMPARE(ui.value(QStringLiteral("images")).toArray(),
             (QJsonArray{QJsonObject{{QStringLiteral("filename"), QStringLiteral("clip_00001_.mp4")},
                                     {QStringLiteral("subfolder"), QStringLiteral("vid")},
                                     {QStringLiteral("type"), QStringLiteral("output")}}}));
    QCOMPARE(ui.value(QStringLiteral("animated")).toArray(), QJsonArray{true});
    const Reply file = http.get(QStringLiteral("/view?filename=clip_00001_.mp4&subfolder=vid"));
    QCOMPARE(file.header("Content-Type"), QByteArray("video/mp4"));
    QCOMPARE(file.body.mid(4, 4), QByteArray("ftyp"));
}

void TestSandboxOutputs::vhsVideoCombineWritesGifsEntry()
{
    ServerFixture f([](gd::sandbox::SandboxConfig& c) { c.frameSize = QSize(64, 36); });
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    QJsonObject graph = t2iGraph(QStringLiteral("vhs/frames"), 3, 1);
    graph.insert(QStringLiteral("9"),
                 node(QStringLiteral("VHS_VideoCombine"),
                      {{QStringLiteral("images"), link("8", 0)},
                       {QStringLiteral("frame_rate"), 8},
                       {QStringLiteral("loop_count"), 0},
                       {QStringLiteral("filename_prefix"), QStringLiteral("vhs/AnimateDiff")},
                       {QStringLiteral("format"), QStringLiteral("video/h264-mp4")},
                       {QStringLiteral("pingpong"), false},
                       {QStringLiteral("save_output"), true}}));
    const QString id = run(http, ws, graph);
    QCOMPARE(filesUnder(f.out()), (QStringList{QStringLiteral("vhs/AnimateDiff_00001.mp4"),
                                               QStringLiteral("vhs/AnimateDiff_00001.png")}));
    const QJsonArray gifs =
        outputsOf(http, id).value(QStringLiteral("9")).toObject().value(QStringLiteral("gifs")).toArray();
    QCOMPARE(gifs.size(), 1);
    const QJsonObject entry = gifs.first().toObject();
    QCOMPARE(entry.value(QStringLiteral("filename")).toString(), QStringLiteral("AnimateDiff_00001.mp4"));
    QCOMPARE(entry.value(QStringLiteral("subfolder")).toString(), QStringLiteral("vhs"));
    QCOMPARE(entry.value(QStringLiteral("type")).toString(), QStringLiteral("output"));
    QCOMPARE(entry.value(QStringLiteral("format")).toString(), QStringLiteral("video/h264-mp4"));
    QCOMPARE(entry.value(QStringLiteral("frame_rate")).toDouble(), 8.0);
    QCOMPARE(entry.value(QStringLiteral("workflow")).toString(), QStringLiteral("AnimateDiff_00001.png"));
    QCOMPARE(entry.value(QStringLiteral("fullpath")).toString(),
             f.out(QStringLiteral("vhs/AnimateDiff_00001.mp4")));
}

void TestSandboxOutputs::previewImageGoesToTemp()
{
    ServerFixture f;
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    const QString id =
        run(http, ws, t2iGraph(QString(), 1, 1, QStringLiteral("p"), QStringLiteral("PreviewImage")));
    const QJsonObject image = outputsOf(http, id)
                                  .value(QStringLiteral("9"))
                                  .toObject()
                                  .value(QStringLiteral("images"))
                                  .toArray()
                                  .first()
                                  .toObject();
    QCOMPARE(image.value(QStringLiteral("type")).toString(), QStringLiteral("temp"));
    QVERIFY(image.value(QStringLiteral("filename")).toString().startsWith(QLatin1String("ComfyUI_temp_")));
    QVERIFY(filesUnder(f.out()).isEmpty());
    const Reply r = http.get(QStringLiteral("/view?filename=%1&type=temp")
                                 .arg(image.value(QStringLiteral("filename")).toString()));
    QCOMPARE(r.status, 200);
}

void TestSandboxOutputs::bundledWorkflowsRun_data()
{
    QTest::addColumn<QString>("file");
    QTest::addColumn<bool>("accepted");
    QTest::newRow("flux t2i") << QStringLiteral("image_flux_t2i.json") << true;
    QTest::newRow("lumina t2i with string nodes")
        << QStringLiteral("image_netayume_lumina_t2iAPI.json") << true;
    QTest::newRow("wan 2.2 fun inpaint") << QStringLiteral("video_wan2_2_5B_fun_inpaintAPI.json") << true;
    QTest::newRow("wan 2.2 ti2v") << QStringLiteral("video_wan2_2_5B_ti2v.json") << true;
    QTest::newRow("legacy graph with pysssss nodes") << QStringLiteral("text-to-video.json") << false;
}

void TestSandboxOutputs::bundledWorkflowsRun()
{
    QFETCH(QString, file);
    QFETCH(bool, accepted);
    QFile source(QStringLiteral(GD_TEST_DATA_DIR "/workflows/") + file);
    QVERIFY2(source.open(QIODevice::ReadOnly), qPrintable(source.fileName()));
    const QJsonObject graph = QJsonDocument::fromJson(source.readAll()).object();
    QVERIFY(!graph.isEmpty());
    ServerFixture f([](gd::sandbox::SandboxConfig& c) {
        c.frameSize = QSize(32, 18);
        c.stepDelayMs = 0;
    });
    // LoadImage validation needs the referenced keyframes in the input folder.
    for (const QJsonValue& v : graph) {
        const QJsonObject n = v.toObject();
        if (n.value(QStringLiteral("class_type")).toString() != QLatin1String("LoadImage"))
            continue;
        QImage key(16, 16, QImage::Format_RGB32);
        key.fill(Qt::darkCyan);
        QVERIFY(key.save(
            QDir(f.server->config().inputDir)
                .filePath(
                    n.value(QStringLiteral("inputs")).toObject().value(QStringLiteral("image")).toString()),
            "PNG"));
    }
    Http http(f.url());
    WsClient ws;
    QVERIFY(ws.open(f.url(), QStringLiteral("out")));
    const Reply r = http.postJson(QStringLiteral("/prompt"),
                                  promptBody(graph, QStringLiteral("out"), QStringLiteral("W")));
    if (!accepted) {
        QCOMPARE(r.status, 400);
        QCOMPARE(r.json().value(QStringLiteral("error")).toObject().value(QStringLiteral("type")).toString(),
                 QStringLiteral("invalid_prompt"));
        return;
    }
    QVERIFY2(r.status == 200, r.body.constData());
    QCOMPARE(r.json().value(QStringLiteral("node_errors")).toObject(), QJsonObject());
    QVERIFY(ws.waitForDone(QStringLiteral("W"), 30000) >= 0);
    QCOMPARE(ws.ofType(QStringLiteral("execution_success")).size(), 1);
    QVERIFY(!ws.ofType(QStringLiteral("progress")).isEmpty());
    QVERIFY(!filesUnder(f.out()).isEmpty());
}

QTEST_MAIN(TestSandboxOutputs)
#include "tst_sandboxoutputs.moc"
