#include "llm/StoryGenerator.h"

#include "common/AtomicFile.h"
#include "common/DurableWriter.h"
#include "common/Log.h"
#include "llm/JsonExtractor.h"
#include "llm/JsonSchemaCheck.h"
#include "story/StoryLoader.h"
#include "story/StoryShots.h"

#include <QCryptographicHash>
#include <QDir>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QSet>
#include <QTimer>

#include <algorithm>
#include <cmath>

namespace gd::llm {

namespace {

enum class StageKind { Bible, Scenes, Shots, Prompt };

struct Stage
{
    StageKind kind = StageKind::Bible;
    int sceneIndex = -1;
    QString name; // "bible" | "scenes" | "shots:scene-001" | "prompts:scene-003"
};

QString sceneId(int index)
{
    return QStringLiteral("scene-%1").arg(index + 1, 3, 10, QLatin1Char('0'));
}

QString isoUtc(const QDateTime& t)
{
    return t.toUTC().toString(Qt::ISODateWithMs);
}

QString pretty(const QJsonObject& o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Indented)).trimmed();
}

QJsonObject stringSchema(int minLength, int maxLength)
{
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("string")},
                       {QStringLiteral("minLength"), minLength},
                       {QStringLiteral("maxLength"), maxLength}};
}

QJsonArray strings(const QStringList& list)
{
    return QJsonArray::fromStringList(list);
}

// Transport failures that a second identical request cannot fix: fail the stage at once.
bool isFatalTransportError(const QString& kind)
{
    return kind == QLatin1String("unreachable") || kind == QLatin1String("no_model")
        || kind == QLatin1String("context_overflow") || kind == QLatin1String("http");
}

// Characters of the prompt-stage answer, minimum and maximum, matching 150–500 tokens at the
// chars/4 estimate of quality-kpis.md §Tokens.
constexpr int kPromptMinChars = StoryGenerator::kMinPromptTokens * 4;
constexpr int kPromptMaxChars = StoryGenerator::kMaxPromptTokens * 4;
// The model's bad answer is not echoed back in full; the reason is what helps it.
constexpr int kMaxProblemsInCorrection = 12;

QString shotId(int index)
{
    return QStringLiteral("shot-%1").arg(index + 1, 2, 10, QLatin1Char('0'));
}

// Personal pronouns in a frame prompt leave the renderer guessing who is meant, and the look of a
// character is injected after its NAME (composeShotPrompt): frames must name people.
const QRegularExpression& pronounPattern()
{
    static const QRegularExpression re(QStringLiteral("\\b(he|she|him|her|his|hers|himself|herself)\\b"),
                                       QRegularExpression::CaseInsensitiveOption);
    return re;
}

// The story.json bible entries of a bible answer: characters (name, role, visualDescriptor, and
// referencePrompt / looks when the answer has them) and locations, every string trimmed.
QJsonObject bibleJson(const QJsonObject& answer)
{
    auto text = [](const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toString().trimmed(); };
    QJsonArray characters;
    for (const QJsonValue& c : answer.value(QStringLiteral("characters")).toArray()) {
        const QJsonObject co = c.toObject();
        QJsonObject out{{QStringLiteral("name"), text(co, "name")},
                        {QStringLiteral("role"), text(co, "role")},
                        {QStringLiteral("visualDescriptor"), text(co, "visualDescriptor")}};
        if (!text(co, "referencePrompt").isEmpty())
            out.insert(QStringLiteral("referencePrompt"), text(co, "referencePrompt"));
        QJsonArray looks;
        for (const QJsonValue& l : co.value(QStringLiteral("looks")).toArray())
            looks.append(QJsonObject{{QStringLiteral("id"), text(l.toObject(), "id")},
                                     {QStringLiteral("descriptor"), text(l.toObject(), "descriptor")},
                                     {QStringLiteral("referencePrompt"), text(l.toObject(), "referencePrompt")}});
        if (!looks.isEmpty())
            out.insert(QStringLiteral("looks"), looks);
        characters.append(out);
    }
    QJsonObject bible{{QStringLiteral("characters"), characters}};
    QJsonArray locations;
    for (const QJsonValue& l : answer.value(QStringLiteral("locations")).toArray())
        locations.append(QJsonObject{{QStringLiteral("name"), text(l.toObject(), "name")},
                                     {QStringLiteral("descriptor"), text(l.toObject(), "descriptor")},
                                     {QStringLiteral("referencePrompt"), text(l.toObject(), "referencePrompt")}});
    if (!locations.isEmpty())
        bible.insert(QStringLiteral("locations"), locations);
    return bible;
}

QJsonObject lookJson(const story::CharacterLook& look)
{
    return QJsonObject{{QStringLiteral("id"), look.id}, {QStringLiteral("descriptor"), look.descriptor}};
}

} // namespace

struct StoryGenerator::Run
{
    StoryRequest request;
    PromptTemplate tpl;
    QString idea;
    QString genre;
    QVector<Stage> stages;
    int stageIndex = 0;
    int attempt = 1;
    QString correction; // prepended to the stage's user message on the corrective retry
    bool raiseTokens = false;

    QJsonObject bible; // the accepted bible answer
    QStringList characterNames;
    QHash<QString, QString> descriptors; // name -> visual descriptor
    story::Story cast;  // the accepted bible's typed view: characters with looks, locations
    bool shots = false; // the shots stage runs (request.shots and the template has a shots section)
    QVector<story::StoryScene> scenes;

    QVector<ChatResult> calls;
    QStringList errors;
    QStringList warnings;
    QStringList repairs;
    int retries = 0;
    bool firstTryValid = true;
    QDateTime startedAt;
    QJsonArray prompts;
    story::Story story;
    story::Story base;       // regenerateScene(): the story whose scene is rewritten
    int regenerateIndex = -1; // regenerateScene(): index of that scene, else -1

    const Stage& stage() const { return stages.at(stageIndex); }
};

StoryGenerator::StoryGenerator(ChatBackend* backend, PromptLibrary library, QObject* parent)
    : QObject(parent)
    , m_backend(backend)
    , m_library(std::move(library))
{
}

StoryGenerator::~StoryGenerator()
{
    if (m_job) {
        disconnect(m_job, nullptr, this, nullptr);
        m_job->cancel();
    }
}

bool StoryGenerator::isRunning() const
{
    return m_run != nullptr;
}

int StoryGenerator::estimateTokens(const QString& text)
{
    return static_cast<int>((text.size() + 3) / 4);
}

QStringList StoryGenerator::themeVocabulary()
{
    return {QStringLiteral("action"),   QStringLiteral("romance"),    QStringLiteral("mystery"),
            QStringLiteral("dialogue"), QStringLiteral("exposition"), QStringLiteral("suspense"),
            QStringLiteral("comedy"),   QStringLiteral("drama"),      QStringLiteral("horror"),
            QStringLiteral("wonder"),   QStringLiteral("tragedy"),    QStringLiteral("triumph")};
}

QJsonObject StoryGenerator::bibleSchema()
{
    return bibleSchema(false);
}

QJsonObject StoryGenerator::bibleSchema(bool withReferences)
{
    QJsonObject character{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), strings({QStringLiteral("name"), QStringLiteral("role"), QStringLiteral("visualDescriptor")})},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("name"), stringSchema(1, 60)},
                     {QStringLiteral("role"), stringSchema(1, 60)},
                     {QStringLiteral("visualDescriptor"), stringSchema(5, 200)}}}};
    const QJsonObject acts{{QStringLiteral("type"), QStringLiteral("array")},
                           {QStringLiteral("minItems"), 3},
                           {QStringLiteral("maxItems"), 3},
                           {QStringLiteral("items"), stringSchema(10, 1200)}};
    QJsonObject schema{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"),
         strings({QStringLiteral("title"), QStringLiteral("logline"), QStringLiteral("directorsVision"),
                  QStringLiteral("characters"), QStringLiteral("setting"), QStringLiteral("plotOutline")})},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("title"), stringSchema(1, 120)},
                     {QStringLiteral("logline"), stringSchema(10, 400)},
                     {QStringLiteral("directorsVision"), stringSchema(10, 800)},
                     {QStringLiteral("characters"),
                      QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                  {QStringLiteral("minItems"), 1},
                                  {QStringLiteral("maxItems"), 6},
                                  {QStringLiteral("items"), character}}},
                     {QStringLiteral("setting"), stringSchema(10, 1200)},
                     {QStringLiteral("plotOutline"), acts}}}};
    if (!withReferences)
        return schema;
    const QJsonObject look{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), strings({QStringLiteral("id"), QStringLiteral("descriptor"), QStringLiteral("referencePrompt")})},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("id"), stringSchema(1, 40)},
                     {QStringLiteral("descriptor"), stringSchema(5, 200)},
                     {QStringLiteral("referencePrompt"), stringSchema(20, 600)}}}};
    QJsonObject characterProperties = character.value(QStringLiteral("properties")).toObject();
    characterProperties.insert(QStringLiteral("referencePrompt"), stringSchema(20, 600));
    characterProperties.insert(QStringLiteral("looks"), QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                                                    {QStringLiteral("minItems"), 1},
                                                                    {QStringLiteral("maxItems"), 4},
                                                                    {QStringLiteral("items"), look}});
    character.insert(QStringLiteral("properties"), characterProperties);
    character.insert(QStringLiteral("required"),
                     strings({QStringLiteral("name"), QStringLiteral("role"), QStringLiteral("visualDescriptor"),
                              QStringLiteral("referencePrompt")}));
    const QJsonObject location{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), strings({QStringLiteral("name"), QStringLiteral("descriptor"), QStringLiteral("referencePrompt")})},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("name"), stringSchema(1, 60)},
                     {QStringLiteral("descriptor"), stringSchema(5, 300)},
                     {QStringLiteral("referencePrompt"), stringSchema(20, 600)}}}};
    QJsonObject properties = schema.value(QStringLiteral("properties")).toObject();
    QJsonObject characters = properties.value(QStringLiteral("characters")).toObject();
    characters.insert(QStringLiteral("items"), character);
    properties.insert(QStringLiteral("characters"), characters);
    properties.insert(QStringLiteral("locations"), QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                                               {QStringLiteral("minItems"), 1},
                                                               {QStringLiteral("maxItems"), 6},
                                                               {QStringLiteral("items"), location}});
    schema.insert(QStringLiteral("properties"), properties);
    QJsonArray required = schema.value(QStringLiteral("required")).toArray();
    required.append(QStringLiteral("locations"));
    schema.insert(QStringLiteral("required"), required);
    return schema;
}

QJsonObject StoryGenerator::shotsSchema(const QStringList& characterNames, const QStringList& lookIds,
                                        const QStringList& locationNames, int maxShots)
{
    QJsonObject name{{QStringLiteral("type"), QStringLiteral("string")}};
    if (!characterNames.isEmpty())
        name.insert(QStringLiteral("enum"), strings(characterNames));
    QJsonObject look{{QStringLiteral("type"), QStringLiteral("string")}};
    if (!lookIds.isEmpty())
        look.insert(QStringLiteral("enum"), strings(lookIds));
    const QJsonObject visible{
        {QStringLiteral("type"), QStringLiteral("array")},
        {QStringLiteral("maxItems"), int(characterNames.size())},
        {QStringLiteral("items"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("object")},
                     {QStringLiteral("required"), strings({QStringLiteral("name"), QStringLiteral("look")})},
                     {QStringLiteral("properties"), QJsonObject{{QStringLiteral("name"), name}, {QStringLiteral("look"), look}}}}}};
    QStringList places{QString()};
    places += locationNames;
    const QJsonObject shot{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"),
         strings({QStringLiteral("description"), QStringLiteral("firstFrame"), QStringLiteral("lastFrame"),
                  QStringLiteral("visibleCharacters"), QStringLiteral("location"), QStringLiteral("camera"),
                  QStringLiteral("motion"), QStringLiteral("continuesPrevious")})},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("description"), stringSchema(10, 600)},
                     {QStringLiteral("firstFrame"), stringSchema(20, 1200)},
                     {QStringLiteral("lastFrame"), stringSchema(0, 1200)},
                     {QStringLiteral("visibleCharacters"), visible},
                     {QStringLiteral("location"),
                      QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}, {QStringLiteral("enum"), strings(places)}}},
                     {QStringLiteral("camera"), stringSchema(1, 120)},
                     {QStringLiteral("motion"), stringSchema(1, 300)},
                     {QStringLiteral("continuesPrevious"), QJsonObject{{QStringLiteral("type"), QStringLiteral("boolean")}}}}}};
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), strings({QStringLiteral("shots")})},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("shots"), QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                                           {QStringLiteral("minItems"), 1},
                                                           {QStringLiteral("maxItems"), std::max(1, maxShots)},
                                                           {QStringLiteral("items"), shot}}}}}};
}

QJsonObject StoryGenerator::scenesSchema(int sceneCount, const QStringList& characterNames)
{
    QJsonObject nameItem{{QStringLiteral("type"), QStringLiteral("string")}};
    if (!characterNames.isEmpty())
        nameItem.insert(QStringLiteral("enum"), strings(characterNames));
    QJsonObject present{{QStringLiteral("type"), QStringLiteral("array")}, {QStringLiteral("items"), nameItem}};
    if (!characterNames.isEmpty())
        present.insert(QStringLiteral("maxItems"), int(characterNames.size()));
    const QJsonObject themes{
        {QStringLiteral("type"), QStringLiteral("array")},
        {QStringLiteral("minItems"), 1},
        {QStringLiteral("maxItems"), 3},
        {QStringLiteral("items"),
         QJsonObject{{QStringLiteral("type"), QStringLiteral("string")}, {QStringLiteral("enum"), strings(themeVocabulary())}}}};
    const QJsonObject scene{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"),
         strings({QStringLiteral("title"), QStringLiteral("summary"), QStringLiteral("mood"), QStringLiteral("themes"),
                  QStringLiteral("characters"), QStringLiteral("cameraMovement"), QStringLiteral("palette")})},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("title"), stringSchema(1, 120)},
                     {QStringLiteral("summary"), stringSchema(10, 800)},
                     {QStringLiteral("mood"), stringSchema(1, 60)},
                     {QStringLiteral("themes"), themes},
                     {QStringLiteral("characters"), present},
                     {QStringLiteral("cameraMovement"), stringSchema(1, 120)},
                     {QStringLiteral("palette"), stringSchema(1, 120)}}}};
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), strings({QStringLiteral("scenes")})},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("scenes"), QJsonObject{{QStringLiteral("type"), QStringLiteral("array")},
                                                            {QStringLiteral("minItems"), sceneCount},
                                                            {QStringLiteral("maxItems"), sceneCount},
                                                            {QStringLiteral("items"), scene}}}}}};
}

QJsonObject StoryGenerator::promptSchema()
{
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("object")},
        {QStringLiteral("required"), strings({QStringLiteral("prompt"), QStringLiteral("negativePrompt")})},
        {QStringLiteral("properties"),
         QJsonObject{{QStringLiteral("prompt"), stringSchema(kPromptMinChars, kPromptMaxChars)},
                     {QStringLiteral("negativePrompt"), stringSchema(1, 600)}}}};
}

void StoryGenerator::failEarly(const QString& error)
{
    // Problems with the request itself end the run before any request is sent; finished() is
    // still delivered from the event loop so callers see the same order as for a real run.
    m_run->errors << error;
    QTimer::singleShot(0, this, [this, error] {
        if (m_run)
            finish(false, error);
    });
}

std::optional<PromptTemplate> StoryGenerator::resolveTemplate(const StoryRequest& request, const story::Story* story,
                                                              QString* error)
{
    if (!request.templateKey.isEmpty()) {
        auto tpl = m_library.find(request.templateKey);
        if (!tpl)
            *error = QStringLiteral("unknown prompt template '%1'").arg(request.templateKey);
        return tpl;
    }
    auto warn = [this](const QString& text) {
        m_run->warnings << text;
        Q_EMIT warning(text);
    };
    if (story && !story->templateId.isEmpty()) {
        const QString key = story->templateVersion.isEmpty()
            ? story->templateId
            : story->templateId + QLatin1Char('@') + story->templateVersion;
        if (auto tpl = m_library.find(key))
            return tpl;
        if (auto tpl = m_library.find(story->templateId)) {
            warn(QStringLiteral("the story's template %1 is not installed; using %2").arg(key, tpl->key()));
            return tpl;
        }
        warn(QStringLiteral("the story's template %1 is not installed; choosing one by genre").arg(key));
    }
    const QString genre = request.genre.isEmpty() && story ? story->genre : request.genre;
    if (!genre.isEmpty()) {
        if (auto tpl = m_library.forGenre(genre))
            return tpl;
        if (!story) {
            QStringList genres;
            for (const PromptTemplate& t : m_library.templates())
                if (!genres.contains(t.genre))
                    genres << t.genre;
            *error = QStringLiteral("no prompt template for genre '%1' (available: %2)")
                         .arg(genre, genres.join(QStringLiteral(", ")));
            return std::nullopt;
        }
    }
    const auto all = m_library.templates();
    if (all.isEmpty()) {
        *error = QStringLiteral("the prompt library has no templates");
        return std::nullopt;
    }
    // A hand-written story may name a genre no template covers; its prompt can still be rewritten.
    if (story && !genre.isEmpty())
        warn(QStringLiteral("no prompt template for genre '%1'; using %2").arg(genre, all.first().key()));
    return all.first();
}

void StoryGenerator::start(const StoryRequest& request)
{
    if (m_run) {
        Q_EMIT warning(QStringLiteral("a story is already being generated; the new request was ignored"));
        return;
    }
    m_run = std::make_unique<Run>();
    Run& run = *m_run;
    run.request = request;
    run.startedAt = QDateTime::currentDateTimeUtc();

    const QString idea = request.idea.trimmed();
    if (idea.isEmpty())
        return failEarly(QStringLiteral("the story idea is empty"));
    if (request.sceneCount < 1 || request.sceneCount > kMaxSceneCount)
        return failEarly(QStringLiteral("scene count %1 is out of range (1 to %2)").arg(request.sceneCount).arg(kMaxSceneCount));
    if (!m_backend)
        return failEarly(QStringLiteral("no LLM backend is configured"));

    QString templateError;
    const std::optional<PromptTemplate> tpl = resolveTemplate(request, nullptr, &templateError);
    if (!tpl)
        return failEarly(templateError);
    run.tpl = *tpl;
    run.genre = request.genre.isEmpty() ? tpl->genre : request.genre;

    const int budget = run.tpl.ideaBudgetChars();
    if (idea.size() > budget) {
        // Cut at a word boundary near the budget so the model never sees half a word.
        qsizetype cut = budget;
        const qsizetype space = idea.lastIndexOf(QRegularExpression(QStringLiteral("\\s")), budget);
        if (space > budget * 9 / 10)
            cut = space;
        run.idea = idea.left(cut).trimmed();
        const QString text = QStringLiteral("the idea is %1 characters, over the budget of %2 of template %3; "
                                            "only the first %4 characters are used")
                                 .arg(idea.size())
                                 .arg(budget)
                                 .arg(run.tpl.key())
                                 .arg(run.idea.size());
        run.warnings << text;
        Q_EMIT warning(text);
    } else {
        run.idea = idea;
    }

    run.shots = request.shots && !run.tpl.shotsStage.trimmed().isEmpty();
    if (request.shots && !run.shots) {
        const QString text = QStringLiteral("template %1 has no shots section; every scene renders as one implicit shot "
                                            "(the built-in templates write shot lists from version 2.0 on)")
                                 .arg(run.tpl.key());
        run.warnings << text;
        Q_EMIT warning(text);
    }
    run.stages = {Stage{StageKind::Bible, -1, QStringLiteral("bible")},
                  Stage{StageKind::Scenes, -1, QStringLiteral("scenes")}};
    run.stageIndex = 0;
    startStage();
}

void StoryGenerator::regenerateScene(const story::Story& story, const QString& sceneId, const StoryRequest& request)
{
    if (m_run) {
        Q_EMIT warning(QStringLiteral("a story is already being generated; the scene was not regenerated"));
        return;
    }
    m_run = std::make_unique<Run>();
    Run& run = *m_run;
    run.request = request;
    run.request.sceneCount = int(story.scenes.size());
    run.startedAt = QDateTime::currentDateTimeUtc();

    int index = -1;
    for (int i = 0; i < story.scenes.size(); ++i)
        if (story.scenes.at(i).id == sceneId)
            index = i;
    if (index < 0)
        return failEarly(QStringLiteral("the story has no scene '%1'").arg(sceneId));
    if (!m_backend)
        return failEarly(QStringLiteral("no LLM backend is configured"));

    QString templateError;
    const std::optional<PromptTemplate> tpl = resolveTemplate(request, &story, &templateError);
    if (!tpl)
        return failEarly(templateError);
    run.tpl = *tpl;
    run.genre = !request.genre.isEmpty() ? request.genre : (!story.genre.isEmpty() ? story.genre : tpl->genre);
    run.idea = story.logline;
    if (!run.request.seed)
        run.request.seed = qint64(QRandomGenerator::global()->bounded(1u << 30));

    // The context the prompt stage had when the story was generated, rebuilt from the story as it
    // is now (the operator may have edited the bible or other scenes since). The generator keeps
    // the three acts next to the joined outline; the stage wants them as the list it produced.
    QJsonObject bible = story.bible;
    bible.insert(QStringLiteral("title"), story.title);
    bible.insert(QStringLiteral("logline"), story.logline);
    bible.insert(QStringLiteral("directorsVision"), story.directorsVision);
    if (bible.value(QStringLiteral("acts")).isArray())
        bible.insert(QStringLiteral("plotOutline"), bible.take(QStringLiteral("acts")));
    run.bible = bible;
    for (const QJsonValue& c : bible.value(QStringLiteral("characters")).toArray()) {
        const QString name = c.toObject().value(QStringLiteral("name")).toString().trimmed();
        if (name.isEmpty())
            continue;
        run.characterNames << name;
        run.descriptors.insert(name, c.toObject().value(QStringLiteral("visualDescriptor")).toString().trimmed());
    }
    run.scenes = story.scenes;
    run.base = story;
    run.regenerateIndex = index;
    run.stages = {Stage{StageKind::Prompt, index, QStringLiteral("prompts:") + sceneId}};
    run.stageIndex = 0;
    startStage();
}

void StoryGenerator::cancel()
{
    if (!m_run)
        return;
    if (m_job) {
        ChatJob* job = m_job;
        m_job = nullptr;
        // Disconnect first: the job's own "cancelled" finish must not start a retry.
        disconnect(job, nullptr, this, nullptr);
        job->cancel();
    }
    m_run->errors << QStringLiteral("cancelled");
    finish(false, QStringLiteral("cancelled"));
}

void StoryGenerator::startStage()
{
    Run& run = *m_run;
    run.attempt = 1;
    run.correction.clear();
    run.raiseTokens = false;
    Q_EMIT stageStarted(run.stage().name);
    sendAttempt();
}

void StoryGenerator::sendAttempt()
{
    Run& run = *m_run;
    const Stage& stage = run.stage();
    const PromptTemplate& tpl = run.tpl;

    QHash<QString, QString> values;
    values.insert(QStringLiteral("idea"), run.idea);
    values.insert(QStringLiteral("genre"), run.genre);
    values.insert(QStringLiteral("tone"), tpl.tone);
    values.insert(QStringLiteral("sceneCount"), QString::number(run.request.sceneCount));
    values.insert(QStringLiteral("mandatoryElements"), tpl.mandatoryElements.join(QStringLiteral("; ")));
    values.insert(QStringLiteral("characterArchetypes"), tpl.characterArchetypes.join(QStringLiteral(", ")));
    values.insert(QStringLiteral("housePalette"), tpl.palette);
    values.insert(QStringLiteral("themes"), themeVocabulary().join(QStringLiteral(", ")));
    values.insert(QStringLiteral("bible"), pretty(run.bible));
    values.insert(QStringLiteral("characterNames"), run.characterNames.join(QStringLiteral(", ")));
    values.insert(QStringLiteral("directorsVision"), run.bible.value(QStringLiteral("directorsVision")).toString());
    values.insert(QStringLiteral("negativePrompt"),
                  tpl.negativePrompt.isEmpty() ? story::StoryLoader::defaultNegativePrompt() : tpl.negativePrompt);

    ChatRequest req;
    QString stageText;
    int maxTokens = tpl.tokenLimit;
    switch (stage.kind) {
    case StageKind::Bible:
        stageText = tpl.bibleStage;
        req.jsonSchema = bibleSchema(run.shots);
        req.schemaName = QStringLiteral("story_bible");
        break;
    case StageKind::Scenes:
        stageText = tpl.scenesStage;
        req.jsonSchema = scenesSchema(run.request.sceneCount, run.characterNames);
        req.schemaName = QStringLiteral("scene_list");
        // ~200 tokens per scene of JSON; more scenes need a larger budget than one bible.
        maxTokens = std::max(tpl.tokenLimit, 200 * run.request.sceneCount + 256);
        break;
    case StageKind::Shots: {
        const story::StoryScene& sc = run.scenes.at(stage.sceneIndex);
        stageText = tpl.shotsStage;
        QStringList lookIds;
        QJsonArray cast;
        for (const QString& name : sc.characters) {
            const story::StoryCharacter* c = story::findCharacter(run.cast, name);
            if (!c)
                continue;
            QJsonArray looks;
            for (const story::CharacterLook& l : c->looks) {
                looks.append(lookJson(l));
                if (!lookIds.contains(l.id))
                    lookIds << l.id;
            }
            cast.append(QJsonObject{{QStringLiteral("name"), c->name},
                                    {QStringLiteral("visualDescriptor"), c->visualDescriptor},
                                    {QStringLiteral("looks"), looks}});
        }
        QStringList places;
        QJsonArray locations;
        for (const story::StoryLocation& l : run.cast.locations) {
            places << l.name;
            locations.append(QJsonObject{{QStringLiteral("name"), l.name}, {QStringLiteral("descriptor"), l.descriptor}});
        }
        QStringList names;
        for (const QJsonValue& c : cast)
            names << c.toObject().value(QStringLiteral("name")).toString();
        req.jsonSchema = shotsSchema(names, lookIds, places);
        req.schemaName = QStringLiteral("shot_list");
        const QJsonObject sceneJson{{QStringLiteral("id"), sc.id},
                                    {QStringLiteral("title"), sc.title},
                                    {QStringLiteral("summary"), sc.summary},
                                    {QStringLiteral("mood"), sc.mood},
                                    {QStringLiteral("characters"), strings(names)},
                                    {QStringLiteral("cameraMovement"), sc.cameraMovement},
                                    {QStringLiteral("palette"), sc.palette}};
        values.insert(QStringLiteral("scene"), pretty(sceneJson));
        // JSON, so that a model (and the sandbox) reads the looks by id without guessing.
        values.insert(QStringLiteral("characterLooks"),
                      cast.isEmpty() ? QStringLiteral("[] (nobody appears in this scene: visibleCharacters stays empty)")
                                     : QString::fromUtf8(QJsonDocument(cast).toJson(QJsonDocument::Indented)).trimmed());
        values.insert(QStringLiteral("locations"),
                      QString::fromUtf8(QJsonDocument(QJsonObject{{QStringLiteral("locations"), locations}})
                                            .toJson(QJsonDocument::Indented))
                          .trimmed());
        values.insert(QStringLiteral("maxShots"), QString::number(kMaxShotsPerScene));
        values.insert(QStringLiteral("cameraMovement"), sc.cameraMovement);
        values.insert(QStringLiteral("palette"), sc.palette);
        break;
    }
    case StageKind::Prompt: {
        const story::StoryScene& sc = run.scenes.at(stage.sceneIndex);
        stageText = tpl.promptStage;
        req.jsonSchema = promptSchema();
        req.schemaName = QStringLiteral("scene_prompt");
        const QJsonObject sceneJson{{QStringLiteral("id"), sc.id},
                                    {QStringLiteral("title"), sc.title},
                                    {QStringLiteral("summary"), sc.summary},
                                    {QStringLiteral("mood"), sc.mood},
                                    {QStringLiteral("themes"), strings(sc.themes)},
                                    {QStringLiteral("characters"), strings(sc.characters)},
                                    {QStringLiteral("cameraMovement"), sc.cameraMovement},
                                    {QStringLiteral("palette"), sc.palette}};
        values.insert(QStringLiteral("scene"), pretty(sceneJson));
        QStringList lines;
        for (const QString& name : sc.characters)
            lines << QStringLiteral("- %1: %2").arg(name, run.descriptors.value(name));
        values.insert(QStringLiteral("characterDescriptors"),
                      lines.isEmpty() ? QStringLiteral("- (no named characters in this scene)") : lines.join(QLatin1Char('\n')));
        values.insert(QStringLiteral("cameraMovement"), sc.cameraMovement);
        values.insert(QStringLiteral("palette"), sc.palette);
        break;
    }
    }
    if (run.raiseTokens)
        maxTokens = maxTokens * 3 / 2;
    // Leave room for the prompt itself inside the model's context (spec/llm-api.md §6.10).
    if (tpl.contextLength > 0)
        maxTokens = std::min(maxTokens, std::max(256, tpl.contextLength * 3 / 4));

    QString user = PromptLibrary::render(stageText, values);
    if (!run.correction.isEmpty())
        user = run.correction + QStringLiteral("\n\n") + user;
    req.messages = {ChatMessage{QStringLiteral("system"), PromptLibrary::render(tpl.system, values)},
                    ChatMessage{QStringLiteral("user"), user}};
    req.model = run.request.model;
    // The corrective retry runs cooler: the first answer was already too inventive for the schema.
    req.temperature = run.attempt == 1 ? run.request.temperature : std::round(run.request.temperature * 50.0) / 100.0;
    req.topP = run.request.topP;
    req.maxTokens = maxTokens;
    if (run.request.seed)
        req.seed = *run.request.seed + run.stageIndex + (run.attempt - 1) * 1000;

    gd::log::get("llm")->debug("story stage {} attempt {} ({} chars of prompt)", stage.name.toStdString(),
                               run.attempt, user.size());
    ChatJob* job = m_backend->startChat(req, this);
    if (!job) {
        run.errors << QStringLiteral("%1: the LLM backend did not start the request").arg(stage.name);
        finish(false, QStringLiteral("%1: the LLM backend did not start the request").arg(stage.name));
        return;
    }
    m_job = job;
    const QString stageName = stage.name;
    connect(job, &ChatJob::token, this, [this, stageName](const QString& text) { Q_EMIT token(stageName, text); });
    connect(job, &ChatJob::finished, this, &StoryGenerator::onJobFinished);
}

void StoryGenerator::onJobFinished(const ChatResult& result)
{
    if (!m_run)
        return;
    m_job = nullptr;
    Run& run = *m_run;
    run.calls.append(result);
    saveRaw(result);

    if (!result.error.isNull()) {
        if (result.error.kind == QLatin1String("cancelled")) {
            run.errors << QStringLiteral("%1: cancelled").arg(run.stage().name);
            finish(false, QStringLiteral("cancelled"));
            return;
        }
        if (isFatalTransportError(result.error.kind)) {
            m_lastErrorKind = result.error.kind;
            const QString text = QStringLiteral("%1: %2").arg(run.stage().name, result.error.toString());
            run.errors << text;
            finish(false, text);
            return;
        }
        // Timeouts and broken streams may pass on a second try; the model did nothing wrong,
        // so the retry carries no correction.
        rejectAnswer(result.error.toString(), false, false);
        return;
    }

    const JsonExtraction x = JsonExtractor::fromResult(result);
    if (!x.ok) {
        const bool cutOff = result.finishReason == QLatin1String("length") || result.truncated;
        const bool reasoningOnly = JsonExtractor::stripThink(result.content).trimmed().isEmpty()
            && !result.reasoning.trimmed().isEmpty();
        rejectAnswer(x.error, true, cutOff || reasoningOnly);
        return;
    }
    for (const QString& r : x.repairs)
        run.repairs << QStringLiteral("%1: %2").arg(run.stage().name, r);
    const QStringList problems = checkAnswer(x.value);
    if (!problems.isEmpty()) {
        QStringList shown = problems.mid(0, kMaxProblemsInCorrection);
        if (problems.size() > shown.size())
            shown << QStringLiteral("… and %1 more").arg(problems.size() - shown.size());
        rejectAnswer(shown.join(QStringLiteral("; ")), true, false);
        return;
    }
    acceptAnswer(x.value);
}

QStringList StoryGenerator::checkAnswer(const QJsonValue& value) const
{
    const Run& run = *m_run;
    const Stage& stage = run.stage();
    QStringList problems;
    switch (stage.kind) {
    case StageKind::Bible: {
        problems = JsonSchemaCheck::check(value, bibleSchema(run.shots));
        if (!problems.isEmpty())
            break;
        QSet<QString> seen;
        const QJsonArray chars = value.toObject().value(QStringLiteral("characters")).toArray();
        for (int i = 0; i < chars.size(); ++i) {
            const QString name = chars.at(i).toObject().value(QStringLiteral("name")).toString().trimmed();
            if (name.isEmpty())
                problems << QStringLiteral("characters[%1].name: must not be blank").arg(i);
            else if (seen.contains(name.toLower()))
                problems << QStringLiteral("characters[%1].name: '%2' is used by an earlier character").arg(i).arg(name);
            seen.insert(name.toLower());
            if (chars.at(i).toObject().value(QStringLiteral("visualDescriptor")).toString().trimmed().isEmpty())
                problems << QStringLiteral("characters[%1].visualDescriptor: must not be blank").arg(i);
            // Look ids become storyboard keys and folder names: a slug, unique per character.
            static const QRegularExpression lookId(QStringLiteral("^[a-z0-9]+(-[a-z0-9]+)*$"));
            QSet<QString> looks;
            const QJsonArray lookList = chars.at(i).toObject().value(QStringLiteral("looks")).toArray();
            for (int k = 0; k < lookList.size(); ++k) {
                const QString id = lookList.at(k).toObject().value(QStringLiteral("id")).toString();
                if (!lookId.match(id).hasMatch())
                    problems << QStringLiteral("characters[%1].looks[%2].id: '%3' must be lower-case words joined by '-'")
                                    .arg(i)
                                    .arg(k)
                                    .arg(id);
                else if (looks.contains(id))
                    problems << QStringLiteral("characters[%1].looks[%2].id: '%3' is used by an earlier look").arg(i).arg(k).arg(id);
                looks.insert(id);
            }
        }
        QSet<QString> places;
        const QJsonArray locations = value.toObject().value(QStringLiteral("locations")).toArray();
        for (int i = 0; i < locations.size(); ++i) {
            const QString name = locations.at(i).toObject().value(QStringLiteral("name")).toString().trimmed();
            if (name.isEmpty())
                problems << QStringLiteral("locations[%1].name: must not be blank").arg(i);
            else if (places.contains(name.toLower()))
                problems << QStringLiteral("locations[%1].name: '%2' is used by an earlier location").arg(i).arg(name);
            places.insert(name.toLower());
        }
        break;
    }
    case StageKind::Shots: {
        const story::StoryScene& sc = run.scenes.at(stage.sceneIndex);
        QStringList names, lookIds, places;
        for (const QString& name : sc.characters)
            if (const story::StoryCharacter* c = story::findCharacter(run.cast, name)) {
                names << c->name;
                for (const story::CharacterLook& l : c->looks)
                    if (!lookIds.contains(l.id))
                        lookIds << l.id;
            }
        for (const story::StoryLocation& l : run.cast.locations)
            places << l.name;
        problems = JsonSchemaCheck::check(value, shotsSchema(names, lookIds, places));
        if (!problems.isEmpty())
            break;
        const QJsonArray shots = value.toObject().value(QStringLiteral("shots")).toArray();
        for (int i = 0; i < shots.size(); ++i) {
            const QJsonObject so = shots.at(i).toObject();
            for (const char* key : {"description", "firstFrame", "camera", "motion"})
                if (so.value(QLatin1String(key)).toString().trimmed().isEmpty())
                    problems << QStringLiteral("shots[%1].%2: must not be blank").arg(i).arg(QLatin1String(key));
            for (const char* key : {"firstFrame", "lastFrame"}) {
                const auto m = pronounPattern().match(so.value(QLatin1String(key)).toString());
                if (m.hasMatch())
                    problems << QStringLiteral("shots[%1].%2: uses the pronoun '%3'; write the character's name instead")
                                    .arg(i)
                                    .arg(QLatin1String(key), m.captured(1));
            }
            QSet<QString> seen;
            const QJsonArray visible = so.value(QStringLiteral("visibleCharacters")).toArray();
            for (int k = 0; k < visible.size(); ++k) {
                const QString name = visible.at(k).toObject().value(QStringLiteral("name")).toString();
                const QString look = visible.at(k).toObject().value(QStringLiteral("look")).toString();
                if (seen.contains(name))
                    problems << QStringLiteral("shots[%1].visibleCharacters[%2].name: '%3' is listed twice").arg(i).arg(k).arg(name);
                seen.insert(name);
                const story::StoryCharacter* c = story::findCharacter(run.cast, name);
                if (c && !story::findLook(run.cast, name, look)) {
                    QStringList ids;
                    for (const story::CharacterLook& l : c->looks)
                        ids << l.id;
                    problems << QStringLiteral("shots[%1].visibleCharacters[%2].look: '%3' is not a look of %4 (only %5)")
                                    .arg(i)
                                    .arg(k)
                                    .arg(look, name, ids.join(QStringLiteral(", ")));
                }
            }
        }
        break;
    }
    case StageKind::Scenes: {
        problems = JsonSchemaCheck::check(value, scenesSchema(run.request.sceneCount, run.characterNames));
        const QJsonArray scenes = value.toObject().value(QStringLiteral("scenes")).toArray();
        if (value.isObject() && scenes.size() != run.request.sceneCount)
            problems.prepend(QStringLiteral("scenes: %1 scenes returned, exactly %2 were asked for")
                                 .arg(scenes.size())
                                 .arg(run.request.sceneCount));
        if (!problems.isEmpty())
            break;
        for (int i = 0; i < scenes.size(); ++i) {
            const QJsonArray themes = scenes.at(i).toObject().value(QStringLiteral("themes")).toArray();
            QSet<QString> seen;
            for (int k = 0; k < themes.size(); ++k) {
                if (seen.contains(themes.at(k).toString()))
                    problems << QStringLiteral("scenes[%1].themes[%2]: '%3' is listed twice")
                                    .arg(i)
                                    .arg(k)
                                    .arg(themes.at(k).toString());
                seen.insert(themes.at(k).toString());
            }
        }
        break;
    }
    case StageKind::Prompt: {
        problems = JsonSchemaCheck::check(value, promptSchema());
        if (!problems.isEmpty())
            break;
        const QString prompt = value.toObject().value(QStringLiteral("prompt")).toString().trimmed();
        const int tokens = estimateTokens(prompt);
        if (tokens < kMinPromptTokens || tokens > kMaxPromptTokens)
            problems << QStringLiteral("prompt: about %1 tokens (characters/4), it must be %2 to %3 tokens")
                            .arg(tokens)
                            .arg(kMinPromptTokens)
                            .arg(kMaxPromptTokens);
        break;
    }
    }
    return problems;
}

void StoryGenerator::rejectAnswer(const QString& problem, bool correctable, bool raiseTokens)
{
    Run& run = *m_run;
    const QString stageName = run.stage().name;
    run.errors << QStringLiteral("%1 attempt %2: %3").arg(stageName).arg(run.attempt).arg(problem);
    run.firstTryValid = false;
    if (run.attempt >= 2) {
        QString error = QStringLiteral("%1: the answer was rejected twice; last problem: %2").arg(stageName, problem);
        if (!rawDir.isEmpty())
            error += QStringLiteral(" (raw answers saved in %1)").arg(QDir::toNativeSeparators(rawDir));
        finish(false, error);
        return;
    }
    run.attempt = 2;
    ++run.retries;
    run.raiseTokens = raiseTokens;
    if (correctable) {
        run.correction = QStringLiteral("Your previous answer was rejected: %1.\nAnswer again with one JSON object that "
                                        "matches the schema exactly, fixing exactly that. No Markdown, no commentary, "
                                        "no reasoning in the answer.")
                             .arg(problem);
        if (raiseTokens)
            run.correction += QStringLiteral(" Keep the answer concise so that it fits the token limit.");
    } else {
        run.correction.clear();
    }
    const double temperature = std::round(run.request.temperature * 50.0) / 100.0;
    const QString text = QStringLiteral("%1: answer rejected (%2); retrying once at temperature %3")
                             .arg(stageName, problem)
                             .arg(temperature);
    run.warnings << text;
    Q_EMIT warning(text);
    sendAttempt();
}

void StoryGenerator::acceptAnswer(const QJsonValue& value)
{
    Run& run = *m_run;
    const Stage stage = run.stage();
    const QJsonObject o = value.toObject();
    switch (stage.kind) {
    case StageKind::Bible: {
        run.bible = o;
        run.characterNames.clear();
        run.descriptors.clear();
        for (const QJsonValue& c : o.value(QStringLiteral("characters")).toArray()) {
            const QString name = c.toObject().value(QStringLiteral("name")).toString().trimmed();
            run.characterNames << name;
            run.descriptors.insert(name, c.toObject().value(QStringLiteral("visualDescriptor")).toString().trimmed());
        }
        run.cast = story::Story();
        run.cast.bible = bibleJson(o);
        story::StoryLoader::readBible(run.cast);
        break;
    }
    case StageKind::Scenes: {
        const QJsonArray scenes = o.value(QStringLiteral("scenes")).toArray();
        for (int i = 0; i < scenes.size(); ++i) {
            const QJsonObject so = scenes.at(i).toObject();
            story::StoryScene sc;
            sc.id = sceneId(i);
            sc.title = so.value(QStringLiteral("title")).toString().trimmed();
            sc.summary = so.value(QStringLiteral("summary")).toString().trimmed();
            sc.mood = so.value(QStringLiteral("mood")).toString().trimmed();
            for (const QJsonValue& t : so.value(QStringLiteral("themes")).toArray())
                sc.themes << t.toString();
            for (const QJsonValue& c : so.value(QStringLiteral("characters")).toArray())
                if (!sc.characters.contains(c.toString()))
                    sc.characters << c.toString();
            sc.cameraMovement = so.value(QStringLiteral("cameraMovement")).toString().trimmed();
            sc.palette = so.value(QStringLiteral("palette")).toString().trimmed();
            sc.expectedFrames = run.tpl.expectedFrames;
            run.scenes.append(sc);
        }
        // Shot lists first (one stage per scene), then the render prompts.
        if (run.shots)
            for (int i = 0; i < run.scenes.size(); ++i)
                run.stages.append(Stage{StageKind::Shots, i, QStringLiteral("shots:") + run.scenes.at(i).id});
        for (int i = 0; i < run.scenes.size(); ++i)
            run.stages.append(Stage{StageKind::Prompt, i, QStringLiteral("prompts:") + run.scenes.at(i).id});
        break;
    }
    case StageKind::Shots: {
        story::StoryScene& sc = run.scenes[stage.sceneIndex];
        sc.shots.clear();
        const QJsonArray shots = o.value(QStringLiteral("shots")).toArray();
        for (int i = 0; i < shots.size(); ++i) {
            const QJsonObject so = shots.at(i).toObject();
            story::StoryShot shot;
            shot.id = shotId(i);
            shot.description = so.value(QStringLiteral("description")).toString().trimmed();
            shot.firstFrame = so.value(QStringLiteral("firstFrame")).toString().trimmed();
            shot.lastFrame = so.value(QStringLiteral("lastFrame")).toString().trimmed();
            for (const QJsonValue& v : so.value(QStringLiteral("visibleCharacters")).toArray())
                shot.visibleCharacters.push_back(story::ShotCharacter{v.toObject().value(QStringLiteral("name")).toString(),
                                                                      v.toObject().value(QStringLiteral("look")).toString()});
            shot.location = so.value(QStringLiteral("location")).toString().trimmed();
            shot.camera = so.value(QStringLiteral("camera")).toString().trimmed();
            shot.motion = so.value(QStringLiteral("motion")).toString().trimmed();
            // The first shot of a scene has no earlier shot here to continue.
            if (i > 0 && so.value(QStringLiteral("continuesPrevious")).toBool())
                shot.continuesFrom = shotId(i - 1);
            sc.shots.push_back(shot);
        }
        break;
    }
    case StageKind::Prompt: {
        story::StoryScene& sc = run.scenes[stage.sceneIndex];
        sc.prompt = o.value(QStringLiteral("prompt")).toString().trimmed();
        sc.negativePrompt = o.value(QStringLiteral("negativePrompt")).toString().trimmed();
        if (sc.negativePrompt.isEmpty())
            sc.negativePrompt = run.tpl.negativePrompt.isEmpty() ? story::StoryLoader::defaultNegativePrompt()
                                                                 : run.tpl.negativePrompt;
        // The prompt was generated together with its negative prompt, so the server's usage
        // does not count the prompt alone: the chars/4 estimate it is (quality-kpis.md §Tokens).
        run.prompts.append(QJsonObject{{QStringLiteral("SceneId"), sc.id},
                                       {QStringLiteral("TokenCount"), estimateTokens(sc.prompt)},
                                       {QStringLiteral("TokenCountSource"), QStringLiteral("estimate")}});
        break;
    }
    }
    if (run.stageIndex + 1 < run.stages.size()) {
        ++run.stageIndex;
        startStage();
        return;
    }
    if (run.regenerateIndex >= 0)
        completeRegeneration();
    else
        completeStory();
}

void StoryGenerator::completeRegeneration()
{
    Run& run = *m_run;
    // Only the prompt fields change: everything else in the scene and the story stays as the
    // caller passed it, unknown keys included. The prompt stage's checks already validated the
    // answer; the story as a whole is the caller's (it may be mid-edit).
    story::Story s = run.base;
    story::StoryScene& target = s.scenes[run.regenerateIndex];
    target.prompt = run.scenes.at(run.regenerateIndex).prompt;
    target.negativePrompt = run.scenes.at(run.regenerateIndex).negativePrompt;
    run.story = s;
    finish(true, QString());
}

void StoryGenerator::completeStory()
{
    Run& run = *m_run;
    story::Story s;
    s.title = run.bible.value(QStringLiteral("title")).toString().trimmed();
    s.logline = run.bible.value(QStringLiteral("logline")).toString().trimmed();
    s.directorsVision = run.bible.value(QStringLiteral("directorsVision")).toString().trimmed();
    s.genre = run.genre;
    s.templateId = run.tpl.id;
    s.templateVersion = run.tpl.version;
    const QJsonObject typedBible = bibleJson(run.bible);
    const QJsonArray characters = typedBible.value(QStringLiteral("characters")).toArray();
    const QJsonArray acts = run.bible.value(QStringLiteral("plotOutline")).toArray();
    QStringList outline;
    for (int i = 0; i < acts.size(); ++i)
        outline << QStringLiteral("Act %1: %2").arg(i + 1).arg(acts.at(i).toString().trimmed());
    // story-format.md shows plotOutline as one string; the three acts are also kept as a list.
    s.bible = QJsonObject{{QStringLiteral("characters"), characters},
                          {QStringLiteral("setting"), run.bible.value(QStringLiteral("setting")).toString().trimmed()},
                          {QStringLiteral("plotOutline"), outline.join(QStringLiteral("\n\n"))},
                          {QStringLiteral("acts"), acts}};
    if (typedBible.contains(QStringLiteral("locations")))
        s.bible.insert(QStringLiteral("locations"), typedBible.value(QStringLiteral("locations")));
    s.scenes = run.scenes;

    QCryptographicHash hash(QCryptographicHash::Sha1);
    hash.addData(s.title.toUtf8());
    hash.addData(s.logline.toUtf8());
    hash.addData(run.idea.toUtf8());
    hash.addData(run.startedAt.toString(Qt::ISODateWithMs).toUtf8());
    s.storyId = QStringLiteral("story-") + QString::fromLatin1(hash.result().toHex().left(8));

    // The generated story must load exactly like a hand-written story.json would.
    QStringList problems;
    auto loaded = story::StoryLoader::fromObject(story::StoryLoader::toJson(s), &problems);
    if (!loaded) {
        const QString error = QStringLiteral("the generated story does not pass the story.json checks: %1")
                                  .arg(problems.join(QStringLiteral("; ")));
        run.errors << error;
        finish(false, error);
        return;
    }
    run.story = *loaded;
    finish(true, QString());
}

void StoryGenerator::saveRaw(const ChatResult& result)
{
    if (rawDir.isEmpty())
        return;
    const Run& run = *m_run;
    // Stage names contain ':' ("prompts:scene-003"), which Windows does not allow in file names.
    QString base = run.stage().name;
    base.replace(QLatin1Char(':'), QLatin1Char('-'));
    base += QLatin1Char('-') + QString::number(run.attempt);
    const QString dirPath = rawDir;
    const QByteArray content = result.content.toUtf8();
    const QByteArray reasoning = result.reasoning.toUtf8();
    // The job returns the whole warning text: it may run on the writer's thread.
    auto job = [dirPath, base, content, reasoning]() -> Error {
        if (!QDir().mkpath(dirPath))
            return {QStringLiteral("io"), QStringLiteral("cannot create the raw answer directory %1").arg(dirPath), {}};
        const QDir dir(dirPath);
        Error e = AtomicFile::write(dir.filePath(base + QStringLiteral(".txt")), content);
        if (e.isNull() && !reasoning.isEmpty())
            e = AtomicFile::write(dir.filePath(base + QStringLiteral(".reasoning.txt")), reasoning);
        if (!e.isNull())
            return {QStringLiteral("io"), QStringLiteral("cannot save the raw answer: %1").arg(e.toString()), {}};
        return {};
    };
    QPointer<StoryGenerator> self(this);
    auto done = [self](const Error& e) {
        if (self && !e.isNull())
            Q_EMIT self->warning(e.message);
    };
    if (rawWriter)
        rawWriter->post(job, done);
    else
        done(job());
}

QJsonObject StoryGenerator::telemetry(const QString& status) const
{
    const Run& run = *m_run;
    QJsonObject o;
    o.insert(QStringLiteral("Status"), status);
    QString model = run.request.model;
    QString format;
    for (const ChatResult& r : run.calls) {
        if (!r.model.isEmpty())
            model = r.model;
        if (!r.requestFormat.isEmpty())
            format = r.requestFormat;
    }
    o.insert(QStringLiteral("Model"), model);
    o.insert(QStringLiteral("ProviderUrl"), providerUrl);
    o.insert(QStringLiteral("RequestFormat"), format.isEmpty() ? QStringLiteral("json_schema") : format);
    o.insert(QStringLiteral("Temperature"), run.request.temperature);
    o.insert(QStringLiteral("Seed"), run.request.seed ? QJsonValue(double(*run.request.seed)) : QJsonValue());
    o.insert(QStringLiteral("TemplateKey"), run.tpl.id.isEmpty() ? QString() : run.tpl.key());

    QDateTime started = run.startedAt;
    QDateTime completed = QDateTime::currentDateTimeUtc();
    if (!run.calls.isEmpty()) {
        if (run.calls.first().startedAt.isValid())
            started = run.calls.first().startedAt;
        if (run.calls.last().completedAt.isValid())
            completed = run.calls.last().completedAt;
    }
    o.insert(QStringLiteral("StartedAt"), isoUtc(started));
    o.insert(QStringLiteral("CompletedAt"), isoUtc(completed));
    o.insert(QStringLiteral("DurationMs"), double(std::max<qint64>(0, started.msecsTo(completed))));

    int promptTokens = 0, completionTokens = 0, transportRetries = 0;
    qint64 callMs = 0;
    bool allUsage = !run.calls.isEmpty();
    bool truncated = false;
    for (const ChatResult& r : run.calls) {
        promptTokens += r.promptTokens;
        completionTokens += r.completionTokens;
        callMs += r.durationMs;
        transportRetries += r.retries;
        allUsage = allUsage && r.tokenCountSource == QLatin1String("usage");
        truncated = truncated || r.truncated || r.finishReason == QLatin1String("length");
    }
    // Time to first token of the first call: it includes any model load, which is what the
    // operator waits for.
    const bool haveTtft = !run.calls.isEmpty() && run.calls.first().timeToFirstTokenMs.has_value();
    o.insert(QStringLiteral("TimeToFirstTokenMs"),
             haveTtft ? QJsonValue(*run.calls.first().timeToFirstTokenMs) : QJsonValue());
    o.insert(QStringLiteral("TokensPerSecond"),
             callMs > 0 && completionTokens > 0
                 ? QJsonValue(std::round(completionTokens * 1000.0 / double(callMs) * 10.0) / 10.0)
                 : QJsonValue());
    o.insert(QStringLiteral("PromptTokens"), promptTokens);
    o.insert(QStringLiteral("CompletionTokens"), completionTokens);
    o.insert(QStringLiteral("TokenCountSource"), allUsage ? QStringLiteral("usage") : QStringLiteral("estimate"));
    o.insert(QStringLiteral("FinishReason"), run.calls.isEmpty() ? QJsonValue() : QJsonValue(run.calls.last().finishReason));
    o.insert(QStringLiteral("Truncated"), truncated);
    o.insert(QStringLiteral("Retries"), run.retries);
    o.insert(QStringLiteral("TransportRetries"), transportRetries);
    o.insert(QStringLiteral("FirstTryValid"), run.firstTryValid);
    o.insert(QStringLiteral("Calls"), int(run.calls.size()));
    o.insert(QStringLiteral("Errors"), strings(run.errors));
    o.insert(QStringLiteral("Warnings"), strings(run.warnings));
    o.insert(QStringLiteral("Repairs"), strings(run.repairs));
    return o;
}

void StoryGenerator::finish(bool ok, const QString& error)
{
    if (!m_run)
        return;
    const QString status = ok ? QStringLiteral("success")
                              : (error == QLatin1String("cancelled") ? QStringLiteral("cancelled") : QStringLiteral("failed"));
    const QJsonObject llm = telemetry(status);
    // Move the run out first: a slot connected to finished() may start the next story.
    std::unique_ptr<Run> run = std::move(m_run);
    if (!ok)
        gd::log::get("llm")->warn("story generation failed: {}", error.toStdString());
    Q_EMIT finished(ok, ok ? run->story : story::Story{}, llm, ok ? run->prompts : QJsonArray{}, error);
}

} // namespace gd::llm
