#include "quality/ModelJudges.h"

#include "common/Log.h"
#include "llm/EmbeddingsClient.h"
#include "llm/LlmClient.h"
#include "llm/ModelCapabilities.h"
#include "quality/JudgeChat.h"
#include "quality/PromptAlignmentRubric.h"
#include "story/StoryLoader.h"

#include <QBuffer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QJsonDocument>
#include <cmath>

namespace gd::quality {

namespace {

constexpr qint64 kMaxFrameBytes = 64LL * 1024 * 1024;

const QString kCoherenceRubric = QStringLiteral(
    "You are a strict story editor. Grade the whole story below against this fixed rubric:\n"
    "1. continuity of characters (the same people, consistently described and named);\n"
    "2. causality between scenes (each scene follows from the ones before);\n"
    "3. consistent setting (place, time and rules of the world stay the same);\n"
    "4. a resolved arc (the story's question is answered by the end).\n"
    "Score 5 when all four hold throughout, 4 when one is slightly weak, 3 when one fails or two are weak, "
    "2 when two fail, 1 when three or more fail. Answer with JSON only: {\"score\": 1..5, \"reasons\": "
    "[short sentences naming what drove the score]}.");

const QString kCaptionPrompt = QStringLiteral(
    "Describe this frame in one or two plain sentences: the setting, who is in it and what they do, and the "
    "camera framing. No lists, no speculation about anything not visible.");

QJsonObject intProperty(int lo, int hi)
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("integer")},
                       {QStringLiteral("minimum"), lo},
                       {QStringLiteral("maximum"), hi}};
}

QJsonObject reasonsProperty()
{
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("array")},
        {QStringLiteral("items"), QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}}}};
}

QJsonObject coherenceSchema()
{
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("properties"), QJsonObject{{QStringLiteral("score"), intProperty(1, 5)},
                                                   {QStringLiteral("reasons"), reasonsProperty()}}},
        {QStringLiteral("required"), QJsonArray{QStringLiteral("score"), QStringLiteral("reasons")}}};
}

QString storyText(const gd::story::Story& story)
{
    QStringList lines;
    if (!story.title.isEmpty())
        lines << QStringLiteral("Title: ") + story.title;
    lines << QStringLiteral("Logline: ") + story.logline;
    const QString setting = story.bible.value(QStringLiteral("setting")).toString();
    if (!setting.isEmpty())
        lines << QStringLiteral("Setting: ") + setting;
    QStringList characters;
    for (const QJsonValue& c : story.bible.value(QStringLiteral("characters")).toArray()) {
        const QJsonObject o = c.toObject();
        QString line = o.value(QStringLiteral("name")).toString();
        const QString role = o.value(QStringLiteral("role")).toString();
        const QString look = o.value(QStringLiteral("visualDescriptor")).toString();
        if (!role.isEmpty())
            line += QStringLiteral(" (") + role + QLatin1Char(')');
        if (!look.isEmpty())
            line += QStringLiteral(" - ") + look;
        characters << line;
    }
    if (!characters.isEmpty())
        lines << QStringLiteral("Characters: ") + characters.join(QStringLiteral("; "));
    lines << QString();
    for (int i = 0; i < story.scenes.size(); ++i) {
        const gd::story::StoryScene& s = story.scenes.at(i);
        QStringList parts;
        for (const QString& p : {s.title, s.summary, s.prompt})
            if (!p.trimmed().isEmpty())
                parts << p.simplified();
        lines << QStringLiteral("Scene %1 (%2): %3").arg(i + 1).arg(s.id, parts.join(QStringLiteral(" | ")));
    }
    return lines.join(QLatin1Char('\n'));
}

} // namespace

ModelJudges::ModelJudges(QObject* parent) : QObject(parent), m_chat(new JudgeChat(this))
{
    qRegisterMetaType<gd::quality::JudgeResults>();
}

ModelJudges::~ModelJudges()
{
    ++m_generation;
    m_chat->cancel();
}

std::optional<double> ModelJudges::cosine(const QVector<double>& a, const QVector<double>& b)
{
    if (a.isEmpty() || a.size() != b.size())
        return std::nullopt;
    double dot = 0, na = 0, nb = 0;
    for (qsizetype i = 0; i < a.size(); ++i) {
        dot += a.at(i) * b.at(i);
        na += a.at(i) * a.at(i);
        nb += b.at(i) * b.at(i);
    }
    if (na <= 0 || nb <= 0 || !std::isfinite(dot))
        return std::nullopt;
    return dot / (std::sqrt(na) * std::sqrt(nb));
}

double ModelJudges::median(QVector<double> values)
{
    return PromptAlignmentRubric::median(std::move(values));
}

SemanticStats ModelJudges::semanticStats(const QVector<QVector<double>>& sim)
{
    SemanticStats s;
    const qsizetype n = sim.size();
    if (n == 0)
        return s;
    int top1 = 0;
    double sum = 0;
    for (qsizetype i = 0; i < n; ++i) {
        const double own = sim.at(i).value(i);
        s.matched.append(own);
        sum += own;
        if (n < 2)
            continue;
        double others = 0;
        double bestOther = -2.0;
        for (qsizetype j = 0; j < n; ++j) {
            if (j == i)
                continue;
            others += sim.at(i).value(j);
            bestOther = std::max(bestOther, sim.at(i).value(j));
        }
        s.margins.append(own - others / double(n - 1));
        if (own > bestOther)
            ++top1;
    }
    s.mean = sum / double(n);
    if (n >= 2) {
        double m = 0;
        for (double x : s.margins)
            m += x;
        s.margin = m / double(n);
        s.retrievalTop1 = double(top1) / double(n);
    }
    return s;
}

QString ModelJudges::frameDataUrl(const QString& path, int maxSide, Error* why)
{
    auto fail = [why, &path](const QString& message) {
        if (why)
            *why = {QStringLiteral("frame"), message, {{QStringLiteral("path"), path}}};
        return QString();
    };
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(QStringLiteral("Cannot read frame %1: %2").arg(path, file.errorString()));
    if (file.size() > kMaxFrameBytes)
        return fail(QStringLiteral("Frame %1 is larger than %2 MiB").arg(path).arg(kMaxFrameBytes >> 20));
    const QByteArray bytes = file.readAll();
    QBuffer buffer;
    buffer.setData(bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    const QByteArray format = reader.format().toLower();
    const QSize size = reader.size();
    const int side = std::max(16, maxSide);
    if ((format == "png" || format == "jpeg" || format == "jpg") && size.isValid() &&
        std::max(size.width(), size.height()) <= side) {
        // Already small and in a format every server takes: the file's own bytes, untouched.
        const QString mime = format == "png" ? QStringLiteral("image/png") : QStringLiteral("image/jpeg");
        return QStringLiteral("data:%1;base64,%2").arg(mime, QString::fromLatin1(bytes.toBase64()));
    }
    QImage image = reader.read();
    if (image.isNull())
        return fail(QStringLiteral("Frame %1 is not a readable image: %2").arg(path, reader.errorString()));
    if (std::max(image.width(), image.height()) > side)
        image = image.scaled(side, side, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    // PNG, never webp: some LM Studio builds refuse webp data URLs (§5).
    QByteArray png;
    QBuffer out(&png);
    out.open(QIODevice::WriteOnly);
    if (!image.save(&out, "PNG"))
        return fail(QStringLiteral("Cannot encode frame %1 as PNG").arg(path));
    return QStringLiteral("data:image/png;base64,") + QString::fromLatin1(png.toBase64());
}

QString ModelJudges::middleFrameIn(const QString& dir)
{
    if (dir.isEmpty())
        return {};
    QDir d(dir);
    const QStringList files =
        d.entryList({QStringLiteral("*.png"), QStringLiteral("*.jpg"), QStringLiteral("*.jpeg")}, QDir::Files,
                    QDir::Name);
    if (files.isEmpty())
        return {};
    return d.absoluteFilePath(files.at((files.size() - 1) / 2));
}

void ModelJudges::run(const QString& runDir, gd::llm::LlmClient* client, const JudgeOptions& options)
{
    if (m_running) {
        gd::log::get("quality")->warn("model judges already running; run({}) ignored", runDir.toStdString());
        return;
    }
    m_running = true;
    ++m_generation;
    m_client = client;
    m_options = options;
    m_chat->setClient(client);
    m_chat->setTimeoutMs(options.callTimeoutMs);
    m_runDir = runDir;
    m_results = JudgeResults{};
    m_scenes.clear();
    m_coherenceScores.clear();
    m_coherenceReasons = QJsonArray();
    m_coherenceModel.clear();
    m_visionModel.clear();
    m_alignmentModel.clear();
    m_captionModel.clear();
    delete m_embeddings;
    m_embeddings = nullptr;

    QString why;
    if (!loadRun(&why)) {
        m_info.error = {QStringLiteral("run"), why, {}};
        QTimer::singleShot(0, this, [this, gen = m_generation] {
            if (gen == m_generation)
                onDetected(m_info);
        });
        return;
    }
    if (!client) {
        QTimer::singleShot(0, this, [this, gen = m_generation] {
            if (gen != m_generation)
                return;
            gd::llm::ServerInfo info;
            info.error = {QStringLiteral("unreachable"), QStringLiteral("no LLM server configured"), {}};
            onDetected(info);
        });
        return;
    }
    m_embeddings = new gd::llm::EmbeddingsClient(client, this);
    m_embeddings->setTimeouts(std::min(60000, m_options.callTimeoutMs), m_options.callTimeoutMs);
    // Fresh detection: which models are listed (and loaded) may have changed since the story was written.
    client->invalidateServerInfo();
    client->detect(this, [this, gen = m_generation](const gd::llm::ServerInfo& info) {
        if (gen == m_generation)
            onDetected(info);
    });
}

void ModelJudges::cancel(const QString& reason)
{
    if (!m_running)
        return;
    // Callbacks of the calls in flight (chat, embeddings, detection) belong to the old generation now.
    ++m_generation;
    m_chat->cancel();
    if (m_embeddings)
        m_embeddings->cancel();
    // A family whose run-level figure is not in the results yet was not finished: it is left out whole.
    const auto leftOut = [this, &reason](bool wanted, const QString& metric, const QStringList& fields) {
        if (!wanted || m_results.run.contains(metric))
            return;
        for (const QString& f : fields)
            m_results.run.insert(f, QJsonValue());
        unmeasured(metric, reason);
    };
    leftOut(m_options.coherence, QStringLiteral("CoherenceJudgeScore"), {QStringLiteral("CoherenceJudgeScore")});
    leftOut(m_options.promptAlignment, QStringLiteral("PromptAlignmentJudgeMean"),
            {QStringLiteral("PromptAlignmentJudgeMean")});
    // Per-scene semantic scores only exist once the whole family is finished, so nothing partial stays.
    leftOut(m_options.semanticAlignment, QStringLiteral("SemanticAlignmentMean"),
            {QStringLiteral("SemanticAlignmentMean"), QStringLiteral("SemanticAlignmentMargin"),
             QStringLiteral("SemanticAlignmentRetrievalTop1")});
    gd::log::get("quality")->info("model judges of {} cancelled: {}", m_runDir.toStdString(), reason.toStdString());
    complete();
}

bool ModelJudges::loadRun(QString* why)
{
    QStringList problems;
    const QString storyPath = QDir(m_runDir).filePath(QStringLiteral("story/story.json"));
    const auto story = gd::story::StoryLoader::load(storyPath, &problems);
    if (!story) {
        *why = QStringLiteral("cannot read %1: %2").arg(storyPath, problems.join(QStringLiteral("; ")));
        return false;
    }
    m_storyText = storyText(*story);

    // Kept attempt per scene from artifact-metadata.json (GeneratedFramesDir, relative to the run dir).
    QHash<QString, QString> framesDir;
    QFile artifact(QDir(m_runDir).filePath(QStringLiteral("artifact-metadata.json")));
    if (artifact.open(QIODevice::ReadOnly)) {
        const QJsonObject root = QJsonDocument::fromJson(artifact.readAll()).object();
        for (const QJsonValue& v : root.value(QStringLiteral("Scenes")).toArray()) {
            const QJsonObject s = v.toObject();
            const QString dir = s.value(QStringLiteral("GeneratedFramesDir")).toString();
            if (dir.isEmpty())
                continue;
            const QString resolved = QDir::cleanPath(QDir(m_runDir).filePath(dir));
            // Untrusted file: only directories inside the run directory are looked at.
            if (resolved.startsWith(QDir::cleanPath(QDir(m_runDir).absolutePath()) + QLatin1Char('/')) ||
                resolved.startsWith(QDir::cleanPath(m_runDir) + QLatin1Char('/')))
                framesDir.insert(s.value(QStringLiteral("SceneId")).toString(), resolved);
        }
    }
    for (const gd::story::StoryScene& s : story->scenes) {
        Scene scene;
        scene.id = s.id;
        scene.prompt = s.prompt;
        scene.frame = middleFrameIn(framesDir.value(s.id));
        if (scene.frame.isEmpty()) {
            // No kept attempt recorded: the attempt with the most frames, else the scene's keyframe.
            QDir sceneDir(QDir(m_runDir).filePath(s.id));
            int best = 0;
            for (const QString& a :
                 sceneDir.entryList({QStringLiteral("attempt-*")}, QDir::Dirs, QDir::Name)) {
                const int n = int(QDir(sceneDir.filePath(a))
                                      .entryList({QStringLiteral("*.png"), QStringLiteral("*.jpg"),
                                                  QStringLiteral("*.jpeg")},
                                                 QDir::Files)
                                      .size());
                if (n > best) {
                    best = n;
                    scene.frame = middleFrameIn(sceneDir.filePath(a));
                }
            }
        }
        if (scene.frame.isEmpty() && !s.keyframe.isEmpty()) {
            const QString keyframe = QFileInfo(s.keyframe).isAbsolute()
                                         ? s.keyframe
                                         : QDir(m_runDir).filePath(QStringLiteral("story/") + s.keyframe);
            if (QFileInfo(keyframe).isFile())
                scene.frame = keyframe;
        }
        m_scenes.append(scene);
    }
    return true;
}

void ModelJudges::unmeasured(const QString& metric, const QString& reason)
{
    m_results.unmeasured << metric + QStringLiteral(": ") + reason;
}

void ModelJudges::semanticUnmeasured(const QString& reason)
{
    for (const char* f : {"SemanticAlignmentMean", "SemanticAlignmentMargin", "SemanticAlignmentRetrievalTop1"})
        m_results.run.insert(QLatin1String(f), QJsonValue());
    unmeasured(QStringLiteral("SemanticAlignmentMean"), reason);
    complete();
}

void ModelJudges::onDetected(const gd::llm::ServerInfo& info)
{
    m_info = info;
    if (!info.error.isNull()) {
        const QString reason = info.error.kind == QLatin1String("run")
                                   ? info.error.message
                                   : QStringLiteral("LLM server not available: ") + info.error.message;
        if (m_options.coherence) {
            m_results.run.insert(QStringLiteral("CoherenceJudgeScore"), QJsonValue());
            unmeasured(QStringLiteral("CoherenceJudgeScore"), reason);
        }
        if (m_options.promptAlignment) {
            m_results.run.insert(QStringLiteral("PromptAlignmentJudgeMean"), QJsonValue());
            unmeasured(QStringLiteral("PromptAlignmentJudgeMean"), reason);
        }
        if (m_options.semanticAlignment) {
            m_results.run.insert(QStringLiteral("SemanticAlignmentMean"), QJsonValue());
            unmeasured(QStringLiteral("SemanticAlignmentMean"), reason);
        }
        complete();
        return;
    }
    Error why;
    if (const auto vision = gd::llm::ModelCapabilities::pickVisionModel(info, m_options.visionModel, &why))
        m_visionModel = *vision;
    startCoherence();
}

void ModelJudges::chat(const gd::llm::ChatRequest& request,
                       std::function<void(const gd::llm::ChatResult&)> done)
{
    m_chat->send(request, [this, done, gen = m_generation](const gd::llm::ChatResult& result) {
        if (gen == m_generation)
            done(result);
    });
}

void ModelJudges::startCoherence()
{
    if (!m_options.coherence) {
        startAlignment();
        return;
    }
    Error why;
    const QString configured =
        m_options.judgeModel.isEmpty() && m_client ? m_client->configuredModel() : m_options.judgeModel;
    const auto model = gd::llm::LlmClient::pickModel(m_info, configured, &why);
    if (!model) {
        m_results.run.insert(QStringLiteral("CoherenceJudgeScore"), QJsonValue());
        unmeasured(QStringLiteral("CoherenceJudgeScore"), QStringLiteral("no chat model: ") + why.message);
        startAlignment();
        return;
    }
    m_coherenceModel = *model;
    m_repeat = 0;
    coherenceCall();
}

void ModelJudges::coherenceCall()
{
    const QJsonObject schema = coherenceSchema();
    gd::llm::ChatRequest request =
        JudgeChat::request(kCoherenceRubric, QStringLiteral("Story to grade:\n\n") + m_storyText, m_coherenceModel);
    request.jsonSchema = schema;
    request.schemaName = QStringLiteral("coherence_judge");
    chat(request, [this, schema](const gd::llm::ChatResult& result) {
        QString why;
        const auto answer = JudgeChat::answer(result, schema, &why);
        if (!answer) {
            m_results.run.insert(QStringLiteral("CoherenceJudgeScore"), QJsonValue());
            unmeasured(QStringLiteral("CoherenceJudgeScore"),
                       QStringLiteral("call %1 of %2: %3").arg(m_repeat + 1).arg(kRepeats).arg(why));
            startAlignment();
            return;
        }
        if (!result.model.isEmpty())
            m_coherenceModel = result.model;
        m_coherenceScores.append(answer->value(QStringLiteral("score")).toDouble());
        if (m_coherenceReasons.isEmpty())
            m_coherenceReasons = answer->value(QStringLiteral("reasons")).toArray();
        if (++m_repeat < kRepeats) {
            coherenceCall();
            return;
        }
        m_results.run.insert(QStringLiteral("CoherenceJudgeScore"), median(m_coherenceScores));
        m_results.run.insert(QStringLiteral("CoherenceJudgeModel"), m_coherenceModel);
        m_results.run.insert(QStringLiteral("CoherenceJudgeReasons"), m_coherenceReasons);
        startAlignment();
    });
}

void ModelJudges::startAlignment()
{
    if (!m_options.promptAlignment) {
        startSemantic();
        return;
    }
    if (m_visionModel.isEmpty()) {
        Error why;
        gd::llm::ModelCapabilities::pickVisionModel(m_info, m_options.visionModel, &why);
        m_results.run.insert(QStringLiteral("PromptAlignmentJudgeMean"), QJsonValue());
        unmeasured(QStringLiteral("PromptAlignmentJudgeMean"),
                   QStringLiteral("no vision model: ") + why.message);
        startSemantic();
        return;
    }
    for (Scene& s : m_scenes) {
        s.alignmentAnswers.clear();
        if (s.frame.isEmpty() || !s.imageUrl.isEmpty())
            continue;
        Error why;
        s.imageUrl = frameDataUrl(s.frame, m_options.maxImageSide, &why);
        if (s.imageUrl.isEmpty())
            gd::log::get("quality")->warn("{}", why.message.toStdString());
    }
    m_sceneIndex = 0;
    m_repeat = 0;
    alignmentCall();
}

void ModelJudges::alignmentCall()
{
    while (m_sceneIndex < m_scenes.size() && m_scenes.at(m_sceneIndex).imageUrl.isEmpty()) {
        const Scene& s = m_scenes.at(m_sceneIndex);
        unmeasured(QStringLiteral("PromptAlignmentJudge[%1]").arg(s.id),
                   s.frame.isEmpty() ? QStringLiteral("no frame or keyframe")
                                     : QStringLiteral("frame unreadable: ") + s.frame);
        ++m_sceneIndex;
    }
    if (m_sceneIndex >= m_scenes.size()) {
        finishAlignment();
        return;
    }
    const Scene& scene = m_scenes.at(m_sceneIndex);
    const gd::llm::ChatRequest request = PromptAlignmentRubric::request(scene.prompt, scene.imageUrl, m_visionModel);
    chat(request, [this, schema = request.jsonSchema](const gd::llm::ChatResult& result) {
        Scene& s = m_scenes[m_sceneIndex];
        QString why;
        const auto answer = JudgeChat::answer(result, schema, &why);
        if (!answer) {
            unmeasured(QStringLiteral("PromptAlignmentJudge[%1]").arg(s.id),
                       QStringLiteral("call %1 of %2: %3").arg(m_repeat + 1).arg(kRepeats).arg(why));
            s.alignmentAnswers.clear();
            ++m_sceneIndex;
            m_repeat = 0;
            alignmentCall();
            return;
        }
        if (!result.model.isEmpty())
            m_alignmentModel = result.model;
        s.alignmentAnswers.append(*answer);
        if (++m_repeat >= kRepeats) {
            ++m_sceneIndex;
            m_repeat = 0;
        }
        alignmentCall();
    });
}

void ModelJudges::finishAlignment()
{
    double sum = 0;
    int measured = 0;
    for (const Scene& s : std::as_const(m_scenes)) {
        if (s.alignmentAnswers.size() != kRepeats)
            continue;
        const QJsonObject out = PromptAlignmentRubric::aggregate(s.alignmentAnswers);
        m_results.scenes[s.id].insert(QStringLiteral("PromptAlignmentJudge"), out);
        sum += out.value(QStringLiteral("Mean")).toDouble();
        ++measured;
    }
    if (measured == 0) {
        m_results.run.insert(QStringLiteral("PromptAlignmentJudgeMean"), QJsonValue());
        unmeasured(QStringLiteral("PromptAlignmentJudgeMean"), QStringLiteral("no scene could be judged"));
    } else {
        m_results.run.insert(QStringLiteral("PromptAlignmentJudgeMean"), sum / measured);
        m_results.run.insert(QStringLiteral("PromptAlignmentJudgeModel"),
                             m_alignmentModel.isEmpty() ? m_visionModel : m_alignmentModel);
        m_results.run.insert(QStringLiteral("PromptAlignmentJudgeScenes"), measured);
    }
    startSemantic();
}

void ModelJudges::startSemantic()
{
    if (!m_options.semanticAlignment) {
        complete();
        return;
    }
    auto unmeasuredAll = [this](const QString& reason) { semanticUnmeasured(reason); };
    Error why;
    if (m_visionModel.isEmpty()) {
        gd::llm::ModelCapabilities::pickVisionModel(m_info, m_options.visionModel, &why);
        unmeasuredAll(QStringLiteral("no vision model to caption frames: ") + why.message);
        return;
    }
    if (!gd::llm::ModelCapabilities::pickEmbeddingModel(m_info, m_options.embeddingModel, &why)) {
        unmeasuredAll(QStringLiteral("no embedding model: ") + why.message);
        return;
    }
    for (Scene& s : m_scenes) {
        s.caption.clear();
        if (!s.frame.isEmpty() && s.imageUrl.isEmpty()) {
            Error e;
            s.imageUrl = frameDataUrl(s.frame, m_options.maxImageSide, &e);
        }
    }
    m_sceneIndex = 0;
    captionCall();
}

void ModelJudges::captionCall()
{
    while (m_sceneIndex < m_scenes.size() && m_scenes.at(m_sceneIndex).imageUrl.isEmpty()) {
        const Scene& s = m_scenes.at(m_sceneIndex);
        unmeasured(QStringLiteral("SemanticAlignmentScore[%1]").arg(s.id),
                   s.frame.isEmpty() ? QStringLiteral("no frame or keyframe")
                                     : QStringLiteral("frame unreadable: ") + s.frame);
        ++m_sceneIndex;
    }
    if (m_sceneIndex >= m_scenes.size()) {
        embedAll();
        return;
    }
    gd::llm::ChatRequest request;
    request.messages = {{QStringLiteral("user"), kCaptionPrompt, {m_scenes.at(m_sceneIndex).imageUrl}}};
    request.model = m_visionModel;
    request.temperature = 0.0;
    request.topP = 1.0;
    request.maxTokens = 300;
    chat(request, [this](const gd::llm::ChatResult& result) {
        Scene& s = m_scenes[m_sceneIndex];
        if (!result.error.isNull() || result.content.trimmed().isEmpty()) {
            unmeasured(QStringLiteral("SemanticAlignmentScore[%1]").arg(s.id),
                       QStringLiteral("no caption: ") +
                           (result.error.isNull() ? QStringLiteral("empty answer") : result.error.message));
        } else {
            s.caption = result.content.trimmed();
            if (!result.model.isEmpty())
                m_captionModel = result.model;
        }
        ++m_sceneIndex;
        captionCall();
    });
}

void ModelJudges::embedAll()
{
    QVector<int> captioned;
    for (int i = 0; i < m_scenes.size(); ++i)
        if (!m_scenes.at(i).caption.isEmpty())
            captioned.append(i);
    auto unmeasuredAll = [this](const QString& reason) { semanticUnmeasured(reason); };
    if (captioned.isEmpty()) {
        unmeasuredAll(QStringLiteral("no scene could be captioned"));
        return;
    }
    // One request: the captions first, then every scene prompt (the margin compares against all of them).
    QStringList inputs;
    for (int i : captioned)
        inputs << m_scenes.at(i).caption;
    for (const Scene& s : std::as_const(m_scenes))
        inputs << s.prompt;
    m_embeddings->embed(
        inputs, m_options.embeddingModel, this,
        [this, captioned, unmeasuredAll, gen = m_generation](const gd::llm::EmbeddingsResult& r) {
            if (gen != m_generation)
                return;
            if (!r.error.isNull()) {
                unmeasuredAll(QStringLiteral("embeddings failed: ") + r.error.message);
                return;
            }
            const int c = int(captioned.size());
            // Similarity of each captioned scene against the prompts of the captioned scenes
            // (retrieval among the scenes that have a caption) ...
            QVector<QVector<double>> sim(c, QVector<double>(c, 0.0));
            for (int a = 0; a < c; ++a) {
                for (int b = 0; b < c; ++b) {
                    const auto cos = cosine(r.vectors.at(a), r.vectors.at(c + captioned.at(b)));
                    if (!cos) {
                        unmeasuredAll(QStringLiteral("embedding vectors unusable (empty, zero or "
                                                     "of different length)"));
                        return;
                    }
                    sim[a][b] = *cos;
                }
            }
            const SemanticStats stats = semanticStats(sim);
            for (int a = 0; a < c; ++a) {
                QJsonObject& scene = m_results.scenes[m_scenes.at(captioned.at(a)).id];
                scene.insert(QStringLiteral("SemanticAlignmentScore"), stats.matched.at(a));
                scene.insert(QStringLiteral("SemanticAlignmentCaption"),
                             m_scenes.at(captioned.at(a)).caption);
                if (!stats.margins.isEmpty())
                    scene.insert(QStringLiteral("SemanticAlignmentMargin"), stats.margins.at(a));
            }
            m_results.run.insert(QStringLiteral("SemanticAlignmentMean"), stats.mean);
            if (stats.margin) {
                m_results.run.insert(QStringLiteral("SemanticAlignmentMargin"), *stats.margin);
                m_results.run.insert(QStringLiteral("SemanticAlignmentRetrievalTop1"), *stats.retrievalTop1);
            } else {
                m_results.run.insert(QStringLiteral("SemanticAlignmentMargin"), QJsonValue());
                m_results.run.insert(QStringLiteral("SemanticAlignmentRetrievalTop1"), QJsonValue());
                unmeasured(QStringLiteral("SemanticAlignmentMargin"),
                           QStringLiteral("needs at least two captioned scenes"));
            }
            m_results.run.insert(QStringLiteral("SemanticAlignmentEmbeddingModel"), r.model);
            m_results.run.insert(QStringLiteral("SemanticAlignmentCaptionModel"),
                                 m_captionModel.isEmpty() ? m_visionModel : m_captionModel);
            complete();
        });
}

void ModelJudges::complete()
{
    m_running = false;
    const JudgeResults results = m_results;
    Q_EMIT finished(results);
}

} // namespace gd::quality
