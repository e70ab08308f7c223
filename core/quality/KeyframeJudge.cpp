#include "quality/KeyframeJudge.h"

#include "llm/LlmClient.h"
#include "llm/ModelCapabilities.h"
#include "quality/JudgeChat.h"
#include "quality/ModelJudges.h"
#include "quality/PromptAlignmentRubric.h"

#include <QJsonArray>
#include <QSet>
#include <QTimer>

namespace gd::quality {

namespace {

const QString kRubric = QStringLiteral(
    "You judge candidate keyframes for one shot of a film against a fixed rubric. The first image is the "
    "candidate keyframe; every further image is the approved reference sheet of one character, in the order "
    "the characters are listed.\n"
    "description_match - how well the keyframe shows the shot description: 4 everything, 3 most, 2 some, "
    "1 barely, 0 none;\n"
    "character_count - how many people are visible in the keyframe (count them, do not assume the expected "
    "number);\n"
    "characters - for each listed character that has a reference sheet, identity 0 to 4: 4 unmistakably the "
    "person of the sheet (face, hair, build, outfit), 3 the same person with small differences, 2 similar "
    "but doubtful, 1 mostly different, 0 not in the keyframe or a different person;\n"
    "borders_or_text - true when the keyframe has borders, frames, letterboxing, captions, watermarks or any "
    "written text;\n"
    "score - the candidate as a keyframe for this shot, 0 to 10: matches the description, the right "
    "characters in the right number, each matching their sheet, no borders or text;\n"
    "reasons - one or two short sentences naming what drove the score.\n"
    "Answer with JSON only: {\"description_match\": 0..4, \"character_count\": n, \"characters\": "
    "[{\"name\": "
    "\"...\", \"identity\": 0..4}], \"borders_or_text\": true|false, \"score\": 0..10, \"reasons\": "
    "\"...\"}.");

const QString kSameness = QStringLiteral(
    "You compare two keyframes of the same film. same_identity - true when both show the same people in the "
    "same outfits; same_layout - true when both have the same composition (where the people and the main "
    "objects are, shot size, camera angle), so that one could stand in for the other. Answer with JSON only: "
    "{\"same_identity\": true|false, \"same_layout\": true|false, \"reasons\": \"one short sentence\"}.");

QJsonObject typed(const char* type)
{
    return QJsonObject{{QStringLiteral("type"), QLatin1String(type)}};
}

QJsonObject ranged(const char* type, int lo, int hi)
{
    QJsonObject o = typed(type);
    o.insert(QStringLiteral("minimum"), lo);
    o.insert(QStringLiteral("maximum"), hi);
    return o;
}

QVector<int> sheetIndexes(const KeyframeJudgeInput& input)
{
    QVector<int> out;
    for (int i = 0; i < input.characters.size(); ++i)
        if (!input.characters.at(i).sheetPath.isEmpty())
            out.append(i);
    return out;
}

QString fmt(double v)
{
    return QString::number(v, 'g', 4);
}

} // namespace

double KeyframeVerdict::meanIdentity() const
{
    if (identity.isEmpty())
        return 0.0;
    double sum = 0;
    for (const auto& [name, value] : identity)
        sum += value;
    return sum / double(identity.size());
}

QJsonObject KeyframeVerdict::toJson() const
{
    QJsonObject ids;
    for (const auto& [name, value] : identity)
        ids.insert(name, value);
    return QJsonObject{{QStringLiteral("score"), score},
                       {QStringLiteral("descriptionMatch"), descriptionMatch},
                       {QStringLiteral("characterCount"), characterCount},
                       {QStringLiteral("identity"), ids},
                       {QStringLiteral("bordersOrText"), bordersOrText},
                       {QStringLiteral("reasons"), reasons},
                       {QStringLiteral("model"), model}};
}

std::optional<KeyframeVerdict> KeyframeVerdict::fromJson(const QJsonObject& json)
{
    // Read back from storyboard.json (a file others may edit): every field must have its type and range.
    const QJsonValue score = json.value(QStringLiteral("score"));
    const QJsonValue match = json.value(QStringLiteral("descriptionMatch"));
    const QJsonValue count = json.value(QStringLiteral("characterCount"));
    const QJsonValue ids = json.value(QStringLiteral("identity"));
    const QJsonValue borders = json.value(QStringLiteral("bordersOrText"));
    auto whole = [](const QJsonValue& v, int lo, int hi) {
        return v.isDouble() && v.toDouble() == double(v.toInt()) && v.toInt() >= lo && v.toInt() <= hi;
    };
    if (!score.isDouble() || score.toDouble() < 0 || score.toDouble() > 10 || !whole(match, 0, 4) ||
        !whole(count, 0, KeyframeJudge::kMaxCharacterCount) || !ids.isObject() || !borders.isBool())
        return std::nullopt;
    KeyframeVerdict v;
    v.score = score.toDouble();
    v.descriptionMatch = match.toInt();
    v.characterCount = count.toInt();
    const QJsonObject idObject = ids.toObject();
    for (auto it = idObject.begin(); it != idObject.end(); ++it) {
        if (!whole(it.value(), 0, 4))
            return std::nullopt;
        v.identity.append({it.key(), it.value().toInt()});
    }
    v.bordersOrText = borders.toBool();
    v.reasons = json.value(QStringLiteral("reasons")).toString();
    v.model = json.value(QStringLiteral("model")).toString();
    return v;
}

KeyframeJudge::KeyframeJudge(gd::llm::LlmClient* client, const KeyframeJudgeOptions& options, QObject* parent)
    : QObject(parent), m_client(client), m_options(options), m_chat(new JudgeChat(this))
{
    m_chat->setClient(client);
    m_chat->setTimeoutMs(options.callTimeoutMs);
}

KeyframeJudge::~KeyframeJudge()
{
    m_tasks.clear();
    m_chat->cancel();
}

QStringList KeyframeJudge::visionModelsOf(const gd::llm::ServerInfo& info)
{
    QStringList out;
    for (const gd::llm::ModelInfo& m : info.models)
        if (gd::llm::ModelCapabilities::isVision(m))
            out << m.id;
    return out;
}

void KeyframeJudge::detectModel(std::function<void()> then)
{
    if (!m_client) {
        m_modelKnown = true;
        m_model.clear();
        m_modelError = {QStringLiteral("unreachable"), QStringLiteral("no LLM server configured"), {}};
        then();
        return;
    }
    // Fresh detection: which models are listed (and loaded) may have changed since the last call.
    m_client->invalidateServerInfo();
    m_client->detect(this, [this, then](const gd::llm::ServerInfo& info) {
        Error why;
        const auto model = gd::llm::ModelCapabilities::pickVisionModel(info, m_options.visionModel, &why);
        m_modelKnown = true;
        m_model = model.value_or(QString());
        m_modelError = model ? Error{} : why;
        then();
    });
}

void KeyframeJudge::selectModel(QObject* ctx, std::function<void(const VisionModelChoice&)> done)
{
    QPointer<QObject> guard(ctx ? ctx : this);
    enqueue([this, guard, done] {
        m_modelKnown = false;
        detectModel([this, guard, done] {
            VisionModelChoice choice;
            const gd::llm::ServerInfo info = m_client ? m_client->serverInfo() : gd::llm::ServerInfo{};
            choice.visionModels = visionModelsOf(info);
            for (const gd::llm::ModelInfo& m : info.models)
                choice.listed << m.id;
            if (m_model.isEmpty())
                choice.error = m_modelError;
            else
                choice.model = m_model;
            if (guard)
                done(choice);
            next();
        });
    });
}

void KeyframeJudge::setVisionModel(const QString& id)
{
    m_model = id;
    m_modelError = id.isEmpty()
                       ? Error{QStringLiteral("no_model"), QStringLiteral("no vision model chosen"), {}}
                       : Error{};
    m_modelKnown = true;
}

void KeyframeJudge::withModel(std::function<void(const QString&)> task,
                              std::function<void(const Error&)> fail)
{
    auto run = [this, task, fail] {
        if (m_model.isEmpty()) {
            Error e = m_modelError;
            if (e.kind != QLatin1String("no_model"))
                e.message = QStringLiteral("LLM server not available: ") + e.message;
            else
                e.message = QStringLiteral("no vision model: ") + e.message;
            // The metrics read "no_model" as UNMEASURED; a server that is down is just as unmeasurable.
            e.detail.insert(QStringLiteral("cause"), m_modelError.kind);
            e.kind = QStringLiteral("no_model");
            fail(e);
            return;
        }
        task(m_model);
    };
    if (m_modelKnown)
        run();
    else
        detectModel(run);
}

void KeyframeJudge::enqueue(Task task)
{
    m_tasks.enqueue(std::move(task));
    if (!m_busy)
        QTimer::singleShot(0, this, [this] {
            if (!m_busy)
                next();
        });
}

void KeyframeJudge::next()
{
    if (m_tasks.isEmpty()) {
        m_busy = false;
        return;
    }
    m_busy = true;
    const Task task = m_tasks.dequeue();
    task();
}

QString KeyframeJudge::imageUrl(const QString& path, Error* why) const
{
    Error e;
    const QString url = ModelJudges::frameDataUrl(path, m_options.maxImageSide, &e);
    if (url.isEmpty()) {
        *why = {QStringLiteral("image"), e.message, e.detail};
    }
    return url;
}

QJsonObject KeyframeJudge::rubricSchema(int judgedCharacters)
{
    QJsonObject character = typed("object");
    character.insert(QStringLiteral("properties"),
                     QJsonObject{{QStringLiteral("name"), typed("string")},
                                 {QStringLiteral("identity"), ranged("integer", 0, 4)}});
    character.insert(QStringLiteral("required"),
                     QJsonArray{QStringLiteral("name"), QStringLiteral("identity")});
    QJsonObject characters = typed("array");
    characters.insert(QStringLiteral("items"), character);
    characters.insert(QStringLiteral("minItems"), judgedCharacters);
    characters.insert(QStringLiteral("maxItems"), judgedCharacters);
    QJsonObject schema = typed("object");
    schema.insert(QStringLiteral("properties"),
                  QJsonObject{{QStringLiteral("description_match"), ranged("integer", 0, 4)},
                              {QStringLiteral("character_count"), ranged("integer", 0, kMaxCharacterCount)},
                              {QStringLiteral("characters"), characters},
                              {QStringLiteral("borders_or_text"), typed("boolean")},
                              {QStringLiteral("score"), ranged("number", 0, 10)},
                              {QStringLiteral("reasons"), typed("string")}});
    schema.insert(QStringLiteral("required"),
                  QJsonArray{QStringLiteral("description_match"), QStringLiteral("character_count"),
                             QStringLiteral("characters"), QStringLiteral("borders_or_text"),
                             QStringLiteral("score"), QStringLiteral("reasons")});
    return schema;
}

QJsonObject KeyframeJudge::samenessSchema()
{
    QJsonObject schema = typed("object");
    schema.insert(QStringLiteral("properties"),
                  QJsonObject{{QStringLiteral("same_identity"), typed("boolean")},
                              {QStringLiteral("same_layout"), typed("boolean")},
                              {QStringLiteral("reasons"), typed("string")}});
    schema.insert(QStringLiteral("required"),
                  QJsonArray{QStringLiteral("same_identity"), QStringLiteral("same_layout"),
                             QStringLiteral("reasons")});
    return schema;
}

QString KeyframeJudge::rubricUserText(const KeyframeJudgeInput& input)
{
    // One line per character, "Character <n>: <name>", so the sheet each image stands for is unambiguous.
    QStringList lines{QStringLiteral("Shot description:"), input.description.simplified(), QString(),
                      QStringLiteral("Expected visible characters: %1").arg(input.characters.size())};
    int image = 2;
    for (int i = 0; i < input.characters.size(); ++i) {
        const KeyframeCharacter& c = input.characters.at(i);
        lines << QStringLiteral("Character %1: %2 (%3)")
                     .arg(i + 1)
                     .arg(c.name.simplified(),
                          c.sheetPath.isEmpty() ? QStringLiteral("no reference sheet: count only")
                                                : QStringLiteral("reference sheet: image %1").arg(image++));
    }
    lines << QString()
          << QStringLiteral(
                 "Image 1 is the candidate keyframe. Judge it against the rubric; name every character "
                 "that has a reference sheet exactly once in \"characters\".");
    return lines.join(QLatin1Char('\n'));
}

gd::llm::ChatRequest KeyframeJudge::rubricRequest(const KeyframeJudgeInput& input,
                                                  const QStringList& imageUrls, const QString& model)
{
    gd::llm::ChatRequest request = JudgeChat::request(kRubric, rubricUserText(input), model);
    request.messages.last().imageDataUrls = imageUrls;
    request.jsonSchema = rubricSchema(int(sheetIndexes(input).size()));
    request.schemaName = QStringLiteral("keyframe_rubric");
    return request;
}

gd::llm::ChatRequest KeyframeJudge::samenessRequest(const QString& imageUrlA, const QString& imageUrlB,
                                                    const QString& model)
{
    gd::llm::ChatRequest request = JudgeChat::request(
        kSameness,
        QStringLiteral("Image 1 and image 2 are keyframes of two different shots. Are they near-identical?"),
        model, 300);
    request.messages.last().imageDataUrls = {imageUrlA, imageUrlB};
    request.jsonSchema = samenessSchema();
    request.schemaName = QStringLiteral("keyframe_sameness");
    return request;
}

gd::llm::ChatRequest KeyframeJudge::corrected(gd::llm::ChatRequest request, const QString& problem)
{
    gd::llm::ChatMessage& user = request.messages.last();
    user.content =
        QStringLiteral("Your previous answer was rejected: %1.\nAnswer again with one JSON object that "
                       "matches the schema exactly, fixing exactly that. No Markdown, no commentary.\n\n")
            .arg(problem) +
        user.content;
    return request;
}

QStringList KeyframeJudge::rubricProblems(const QJsonObject& answer, const KeyframeJudgeInput& input)
{
    QHash<QString, QString> expected; // folded name -> name as given
    for (int i : sheetIndexes(input))
        expected.insert(input.characters.at(i).name.simplified().toCaseFolded(), input.characters.at(i).name);
    QStringList problems;
    QSet<QString> seen;
    const QJsonArray characters = answer.value(QStringLiteral("characters")).toArray();
    for (int i = 0; i < characters.size(); ++i) {
        const QString name = characters.at(i).toObject().value(QStringLiteral("name")).toString();
        const QString key = name.simplified().toCaseFolded();
        if (!expected.contains(key))
            problems << QStringLiteral(
                            "characters[%1].name: '%2' is not one of the listed characters with a sheet")
                            .arg(i)
                            .arg(name);
        else if (seen.contains(key))
            problems << QStringLiteral("characters[%1].name: '%2' is named twice").arg(i).arg(name);
        seen.insert(key);
    }
    for (int i : sheetIndexes(input)) {
        const QString& name = input.characters.at(i).name;
        if (!seen.contains(name.simplified().toCaseFolded()))
            problems << QStringLiteral("characters: no identity for '%1'").arg(name);
    }
    return problems;
}

KeyframeVerdict KeyframeJudge::verdictFrom(const QJsonObject& answer, const KeyframeJudgeInput& input)
{
    KeyframeVerdict v;
    v.score = answer.value(QStringLiteral("score")).toDouble();
    v.descriptionMatch = answer.value(QStringLiteral("description_match")).toInt();
    v.characterCount = answer.value(QStringLiteral("character_count")).toInt();
    v.bordersOrText = answer.value(QStringLiteral("borders_or_text")).toBool();
    v.reasons = answer.value(QStringLiteral("reasons")).toString();
    QHash<QString, int> byName;
    for (const QJsonValue& c : answer.value(QStringLiteral("characters")).toArray())
        byName.insert(c.toObject().value(QStringLiteral("name")).toString().simplified().toCaseFolded(),
                      c.toObject().value(QStringLiteral("identity")).toInt());
    // In the input's order and spelling, whatever order the model answered in.
    for (int i : sheetIndexes(input)) {
        const QString& name = input.characters.at(i).name;
        v.identity.append({name, byName.value(name.simplified().toCaseFolded())});
    }
    return v;
}

void KeyframeJudge::checkedCall(const gd::llm::ChatRequest& request,
                                std::function<QStringList(const QJsonObject&)> extra, const QString& what,
                                Checked done, int attempt)
{
    m_chat->send(request, [this, request, extra, what, done, attempt](const gd::llm::ChatResult& result) {
        const QString model = result.model.isEmpty() ? request.model : result.model;
        if (!result.error.isNull()) {
            // The model did nothing wrong: no correction to send. The error is the transport's.
            done(std::nullopt, model, result.error, attempt - 1);
            return;
        }
        QString why;
        std::optional<QJsonObject> answer = JudgeChat::answer(result, request.jsonSchema, &why);
        if (answer && extra) {
            const QStringList problems = extra(*answer);
            if (!problems.isEmpty()) {
                why = QStringLiteral("judge answer: ") + problems.join(QStringLiteral("; "));
                answer.reset();
            }
        }
        if (answer) {
            done(answer, model, {}, attempt - 1);
            return;
        }
        if (attempt >= 2) {
            done(std::nullopt, model,
                 {QStringLiteral("judge"),
                  QStringLiteral("%1: the answer was rejected twice; last problem: %2").arg(what, why),
                  {{QStringLiteral("model"), model}}},
                 attempt - 1);
            return;
        }
        checkedCall(corrected(request, why), extra, what, done, attempt + 1);
    });
}

template <typename Verdict>
void KeyframeJudge::schedule(QObject* ctx, std::function<void(const Verdict&)> done,
                             std::function<void(const QString&, std::function<void(const Verdict&)>)> body)
{
    QPointer<QObject> guard(ctx ? ctx : this);
    std::function<void(const Verdict&)> finish = [this, guard, done](const Verdict& v) {
        if (guard)
            done(v);
        next();
    };
    enqueue([this, body, finish] {
        withModel([body, finish](const QString& model) { body(model, finish); },
                  [finish](const Error& e) {
                      Verdict v;
                      v.error = e;
                      finish(v);
                  });
    });
}

void KeyframeJudge::judge(const KeyframeJudgeInput& input, QObject* ctx,
                          std::function<void(const KeyframeVerdict&)> done)
{
    schedule<KeyframeVerdict>(ctx, done, [this, input](const QString& model, auto finish) {
        KeyframeVerdict failed;
        failed.model = model;
        QStringList urls{imageUrl(input.candidatePath, &failed.error)};
        for (int i : sheetIndexes(input)) {
            if (!failed.error.isNull())
                break;
            urls << imageUrl(input.characters.at(i).sheetPath, &failed.error);
            if (!failed.error.isNull())
                failed.error.message = QStringLiteral("reference sheet of %1: %2")
                                           .arg(input.characters.at(i).name, failed.error.message);
        }
        if (!failed.error.isNull()) {
            finish(failed);
            return;
        }
        checkedCall(
            rubricRequest(input, urls, model),
            [input](const QJsonObject& a) { return rubricProblems(a, input); },
            QStringLiteral("keyframe judge"),
            [input, finish](const std::optional<QJsonObject>& answer, const QString& m, const Error& e,
                            int retries) {
                KeyframeVerdict v = answer ? verdictFrom(*answer, input) : KeyframeVerdict{};
                v.error = e;
                v.model = m;
                v.retries = retries;
                finish(v);
            });
    });
}

void KeyframeJudge::judgeSameness(const QString& keyframeA, const QString& keyframeB, QObject* ctx,
                                  std::function<void(const SamenessVerdict&)> done)
{
    schedule<SamenessVerdict>(ctx, done, [this, keyframeA, keyframeB](const QString& model, auto finish) {
        SamenessVerdict failed;
        failed.model = model;
        const QString a = imageUrl(keyframeA, &failed.error);
        const QString b = a.isEmpty() ? QString() : imageUrl(keyframeB, &failed.error);
        if (!failed.error.isNull()) {
            finish(failed);
            return;
        }
        checkedCall(
            samenessRequest(a, b, model), {}, QStringLiteral("sameness judge"),
            [finish](const std::optional<QJsonObject>& answer, const QString& m, const Error& e, int) {
                SamenessVerdict v;
                v.error = e;
                v.model = m;
                if (answer) {
                    v.sameIdentity = answer->value(QStringLiteral("same_identity")).toBool();
                    v.sameLayout = answer->value(QStringLiteral("same_layout")).toBool();
                    v.reasons = answer->value(QStringLiteral("reasons")).toString();
                }
                finish(v);
            });
    });
}

void KeyframeJudge::alignmentCall(const gd::llm::ChatRequest& request, QVector<QJsonObject> answers,
                                  std::function<void(const AlignmentVerdict&)> done)
{
    m_chat->send(request, [this, request, answers, done](const gd::llm::ChatResult& result) mutable {
        QString why;
        const auto answer = JudgeChat::answer(result, request.jsonSchema, &why);
        AlignmentVerdict v;
        v.model = result.model.isEmpty() ? request.model : result.model;
        if (!answer) {
            // Like the clip metric: a call that fails leaves the keyframe unjudged (no correction, the
            // median of fewer calls would not be the spec's figure).
            v.error = {result.error.isNull() ? QStringLiteral("judge") : result.error.kind,
                       QStringLiteral("call %1 of %2: %3")
                           .arg(answers.size() + 1)
                           .arg(PromptAlignmentRubric::kRepeats)
                           .arg(why),
                       {}};
            done(v);
            return;
        }
        answers.append(*answer);
        if (answers.size() < PromptAlignmentRubric::kRepeats) {
            alignmentCall(request, answers, done);
            return;
        }
        v.judge = PromptAlignmentRubric::aggregate(answers);
        done(v);
    });
}

void KeyframeJudge::judgeAlignment(const QString& keyframe, const QString& prompt, QObject* ctx,
                                   std::function<void(const AlignmentVerdict&)> done)
{
    schedule<AlignmentVerdict>(ctx, done, [this, keyframe, prompt](const QString& model, auto finish) {
        AlignmentVerdict failed;
        failed.model = model;
        const QString url = imageUrl(keyframe, &failed.error);
        if (url.isEmpty()) {
            finish(failed);
            return;
        }
        alignmentCall(PromptAlignmentRubric::request(prompt, url, model), {}, finish);
    });
}

BestOfChoice KeyframeJudge::bestOf(const QVector<KeyframeVerdict>& verdicts)
{
    BestOfChoice choice;
    QVector<int> judged;
    QStringList skipped;
    for (int i = 0; i < verdicts.size(); ++i) {
        if (verdicts.at(i).ok())
            judged.append(i);
        else
            skipped
                << QStringLiteral("candidate %1 not judged: %2").arg(i + 1).arg(verdicts.at(i).error.message);
    }
    if (judged.isEmpty()) {
        choice.why =
            verdicts.isEmpty()
                ? QStringLiteral("no candidates")
                : QStringLiteral("no candidate could be judged (%1)").arg(skipped.join(QStringLiteral("; ")));
        return choice;
    }
    // The comparison of the rubric: score, then no border/text flag, then mean identity, then index.
    auto better = [&verdicts](int a, int b) {
        const KeyframeVerdict& x = verdicts.at(a);
        const KeyframeVerdict& y = verdicts.at(b);
        if (x.score != y.score)
            return x.score > y.score;
        if (x.bordersOrText != y.bordersOrText)
            return !x.bordersOrText;
        if (x.meanIdentity() != y.meanIdentity())
            return x.meanIdentity() > y.meanIdentity();
        return a < b;
    };
    int best = judged.first();
    for (int i : judged)
        if (better(i, best))
            best = i;
    const KeyframeVerdict& b = verdicts.at(best);
    QVector<int> tied; // the others with the same score
    double nextScore = -1;
    for (int i : judged) {
        if (i == best)
            continue;
        if (verdicts.at(i).score == b.score)
            tied.append(i);
        else
            nextScore = std::max(nextScore, verdicts.at(i).score);
    }
    QString why;
    if (judged.size() == 1) {
        why = QStringLiteral("the only judged candidate (score %1)").arg(fmt(b.score));
    } else if (tied.isEmpty()) {
        why = QStringLiteral("highest score %1 (next %2)").arg(fmt(b.score), fmt(nextScore));
    } else {
        QStringList others;
        for (int i : tied)
            others << QString::number(i + 1);
        why = QStringLiteral("score %1 tied with candidate %2; ")
                  .arg(fmt(b.score), others.join(QStringLiteral(", ")));
        bool bordersDecide = false;
        bool identityDecides = false;
        for (int i : tied) {
            const KeyframeVerdict& t = verdicts.at(i);
            if (t.bordersOrText != b.bordersOrText)
                bordersDecide = true;
            else if (t.meanIdentity() != b.meanIdentity())
                identityDecides = true;
        }
        if (bordersDecide && !identityDecides)
            why += QStringLiteral("no borders or text where the others have them");
        else if (bordersDecide)
            why += QStringLiteral("no borders or text, and the higher mean identity %1")
                       .arg(fmt(b.meanIdentity()));
        else if (identityDecides)
            why +=
                QStringLiteral("same border/text flags; higher mean identity %1").arg(fmt(b.meanIdentity()));
        else
            why += QStringLiteral("same border/text flags and mean identity; lowest index");
    }
    choice.index = best;
    choice.why = QStringLiteral("candidate %1 of %2: %3").arg(best + 1).arg(verdicts.size()).arg(why);
    if (!skipped.isEmpty())
        choice.why += QStringLiteral(" (%1)").arg(skipped.join(QStringLiteral("; ")));
    return choice;
}

} // namespace gd::quality
