#include "llm/PromptLibrary.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>

namespace gd::llm {

namespace {

// Templates are small text files; anything bigger is not one of ours.
constexpr qint64 kMaxTemplateBytes = 1024 * 1024;

const QRegularExpression& placeholderPattern()
{
    static const QRegularExpression re(QStringLiteral("\\{\\{\\s*([A-Za-z][A-Za-z0-9_]*)\\s*\\}\\}"));
    return re;
}

QStringList stringList(const QJsonValue& v, const QString& key, QStringList* problems)
{
    if (v.isUndefined() || v.isNull())
        return {};
    if (!v.isArray()) {
        problems->append(QStringLiteral("%1: must be a list of strings").arg(key));
        return {};
    }
    QStringList out;
    const QJsonArray a = v.toArray();
    for (int i = 0; i < a.size(); ++i) {
        if (!a.at(i).isString())
            problems->append(QStringLiteral("%1[%2]: must be a string").arg(key).arg(i));
        else
            out << a.at(i).toString();
    }
    return out;
}

QString str(const QJsonObject& o, const char* key, QStringList* problems)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return {};
    if (!v.isString()) {
        problems->append(QStringLiteral("%1: must be a string").arg(QLatin1String(key)));
        return {};
    }
    return v.toString();
}

int integer(const QJsonObject& o, const char* key, QStringList* problems)
{
    const QJsonValue v = o.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return 0;
    const double d = v.toDouble(-1);
    if (!v.isDouble() || d != static_cast<double>(static_cast<qint64>(d)) || d < 0 || d > 10'000'000) {
        problems->append(QStringLiteral("%1: must be a whole number from 0 to 10000000").arg(QLatin1String(key)));
        return 0;
    }
    return static_cast<int>(d);
}

bool versionParts(const QString& v, int* major, int* minor)
{
    static const QRegularExpression re(QStringLiteral("^(\\d{1,6})\\.(\\d{1,6})$"));
    const auto m = re.match(v);
    if (!m.hasMatch())
        return false;
    *major = m.captured(1).toInt();
    *minor = m.captured(2).toInt();
    return true;
}

void loadFile(const QString& path, QVector<PromptTemplate>* out, QStringList* problems)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        problems->append(QStringLiteral("%1: cannot open (%2)").arg(path, f.errorString()));
        return;
    }
    if (f.size() > kMaxTemplateBytes) {
        problems->append(QStringLiteral("%1: larger than 1 MB, not a prompt template").arg(path));
        return;
    }
    QJsonParseError pe{};
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &pe);
    if (pe.error != QJsonParseError::NoError) {
        problems->append(
            QStringLiteral("%1: invalid JSON at offset %2: %3").arg(path).arg(pe.offset).arg(pe.errorString()));
        return;
    }
    if (!doc.isObject()) {
        problems->append(QStringLiteral("%1: the top level must be a JSON object").arg(path));
        return;
    }
    QStringList local;
    auto tpl = PromptLibrary::parse(doc.object(), path, &local);
    if (tpl)
        local += PromptLibrary::validate(*tpl);
    if (!local.isEmpty()) {
        for (const QString& p : std::as_const(local))
            problems->append(QStringLiteral("%1: %2").arg(path, p));
        return;
    }
    out->append(*tpl);
}

void loadDir(const QString& dir, QVector<PromptTemplate>* out, QStringList* problems)
{
    QStringList files;
    QDirIterator it(dir, {QStringLiteral("*.json")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        // The manifest lists the templates; it is not one itself.
        if (QFileInfo(path).fileName() == QLatin1String("manifest.json"))
            continue;
        files << path;
    }
    files.sort(); // deterministic order: the same problems in the same order on every start
    for (const QString& path : std::as_const(files))
        loadFile(path, out, problems);
}

} // namespace

QString PromptTemplate::key() const
{
    return id + QLatin1Char('@') + version;
}

int PromptTemplate::ideaBudgetChars() const
{
    if (ideaMaxChars > 0)
        return ideaMaxChars;
    // A quarter of the context window, at ~4 characters per token (spec/llm-api.md §6.10).
    return std::max(contextLength, 1024);
}

QStringList PromptLibrary::knownGenres()
{
    return {QStringLiteral("sci-fi"),  QStringLiteral("drama"),   QStringLiteral("thriller"),
            QStringLiteral("fantasy"), QStringLiteral("horror"),  QStringLiteral("comedy"),
            QStringLiteral("romance"), QStringLiteral("mystery"), QStringLiteral("documentary"),
            QStringLiteral("adventure"), QStringLiteral("western"), QStringLiteral("noir")};
}

QStringList PromptLibrary::knownPlaceholders()
{
    return {QStringLiteral("idea"),           QStringLiteral("genre"),
            QStringLiteral("tone"),           QStringLiteral("sceneCount"),
            QStringLiteral("mandatoryElements"), QStringLiteral("characterArchetypes"),
            QStringLiteral("housePalette"),   QStringLiteral("themes"),
            QStringLiteral("bible"),          QStringLiteral("characterNames"),
            QStringLiteral("scene"),          QStringLiteral("characterDescriptors"),
            QStringLiteral("directorsVision"), QStringLiteral("cameraMovement"),
            QStringLiteral("palette"),        QStringLiteral("negativePrompt"),
            QStringLiteral("characterLooks"), QStringLiteral("locations"),
            QStringLiteral("maxShots")};
}

QStringList PromptLibrary::requiredPlaceholders(const QString& section)
{
    if (section == QLatin1String("system"))
        return {QStringLiteral("genre")};
    if (section == QLatin1String("bible"))
        return {QStringLiteral("idea"), QStringLiteral("sceneCount")};
    if (section == QLatin1String("scenes"))
        return {QStringLiteral("bible"), QStringLiteral("sceneCount"), QStringLiteral("themes")};
    if (section == QLatin1String("prompt"))
        return {QStringLiteral("scene"),          QStringLiteral("characterDescriptors"),
                QStringLiteral("directorsVision"), QStringLiteral("cameraMovement"),
                QStringLiteral("palette"),        QStringLiteral("negativePrompt")};
    if (section == QLatin1String("shots"))
        return {QStringLiteral("scene"), QStringLiteral("characterLooks"), QStringLiteral("maxShots")};
    return {};
}

QStringList PromptLibrary::placeholdersIn(const QString& text)
{
    QStringList out;
    auto it = placeholderPattern().globalMatch(text);
    while (it.hasNext()) {
        const QString name = it.next().captured(1);
        if (!out.contains(name))
            out << name;
    }
    return out;
}

QString PromptLibrary::render(const QString& text, const QHash<QString, QString>& values)
{
    // One pass over the template: substituted values are never scanned again, so an idea that
    // itself contains "{{bible}}" stays literal text.
    QString out;
    out.reserve(text.size());
    qsizetype last = 0;
    auto it = placeholderPattern().globalMatch(text);
    while (it.hasNext()) {
        const auto m = it.next();
        out += QStringView(text).mid(last, m.capturedStart() - last);
        const auto found = values.constFind(m.captured(1));
        if (found != values.constEnd())
            out += *found;
        else
            out += m.captured(0);
        last = m.capturedEnd();
    }
    out += QStringView(text).mid(last);
    return out;
}

int PromptLibrary::compareVersions(const QString& a, const QString& b)
{
    int amaj = 0, amin = 0, bmaj = 0, bmin = 0;
    const bool aok = versionParts(a, &amaj, &amin);
    const bool bok = versionParts(b, &bmaj, &bmin);
    if (!aok || !bok)
        return aok ? 1 : (bok ? -1 : QString::compare(a, b));
    if (amaj != bmaj)
        return amaj < bmaj ? -1 : 1;
    if (amin != bmin)
        return amin < bmin ? -1 : 1;
    return 0;
}

std::optional<PromptTemplate> PromptLibrary::parse(const QJsonObject& o, const QString& sourcePath,
                                                   QStringList* problems)
{
    const int before = problems->size();
    PromptTemplate t;
    t.sourcePath = sourcePath;
    t.id = str(o, "id", problems);
    t.version = str(o, "version", problems);
    t.genre = str(o, "genre", problems);
    t.tone = str(o, "tone", problems);
    t.author = str(o, "author", problems);
    const QString created = str(o, "created", problems);
    if (!created.isEmpty()) {
        t.created = QDate::fromString(created, Qt::ISODate);
        if (!t.created.isValid())
            problems->append(QStringLiteral("created: '%1' is not a date (YYYY-MM-DD)").arg(created));
    }
    t.contextLength = integer(o, "contextLength", problems);
    t.tokenLimit = integer(o, "tokenLimit", problems);
    t.ideaMaxChars = integer(o, "ideaMaxChars", problems);
    t.expectedFrames = integer(o, "expectedFrames", problems);
    t.mandatoryElements = stringList(o.value(QStringLiteral("mandatoryElements")), QStringLiteral("mandatoryElements"), problems);
    t.characterArchetypes =
        stringList(o.value(QStringLiteral("characterArchetypes")), QStringLiteral("characterArchetypes"), problems);
    t.palette = str(o, "palette", problems);
    t.negativePrompt = str(o, "negativePrompt", problems);
    const QJsonValue qt = o.value(QStringLiteral("qualityThresholds"));
    if (!qt.isUndefined() && !qt.isNull() && !qt.isObject())
        problems->append(QStringLiteral("qualityThresholds: must be an object"));
    t.qualityThresholds = qt.toObject();
    const QJsonValue sections = o.value(QStringLiteral("sections"));
    if (!sections.isObject()) {
        problems->append(QStringLiteral("sections: required object with system, bible, scenes and prompt"));
    } else {
        const QJsonObject so = sections.toObject();
        QStringList sectionProblems;
        t.system = str(so, "system", &sectionProblems);
        t.bibleStage = str(so, "bible", &sectionProblems);
        t.scenesStage = str(so, "scenes", &sectionProblems);
        t.promptStage = str(so, "prompt", &sectionProblems);
        t.shotsStage = str(so, "shots", &sectionProblems);
        for (const QString& p : std::as_const(sectionProblems))
            problems->append(QStringLiteral("sections.") + p);
    }
    if (problems->size() != before)
        return std::nullopt;
    return t;
}

QJsonObject PromptLibrary::toJson(const PromptTemplate& t)
{
    QJsonObject o;
    o.insert(QStringLiteral("id"), t.id);
    o.insert(QStringLiteral("version"), t.version);
    o.insert(QStringLiteral("author"), t.author);
    o.insert(QStringLiteral("created"), t.created.toString(Qt::ISODate));
    o.insert(QStringLiteral("genre"), t.genre);
    o.insert(QStringLiteral("tone"), t.tone);
    o.insert(QStringLiteral("contextLength"), t.contextLength);
    o.insert(QStringLiteral("tokenLimit"), t.tokenLimit);
    o.insert(QStringLiteral("ideaMaxChars"), t.ideaMaxChars);
    o.insert(QStringLiteral("expectedFrames"), t.expectedFrames);
    o.insert(QStringLiteral("mandatoryElements"), QJsonArray::fromStringList(t.mandatoryElements));
    o.insert(QStringLiteral("characterArchetypes"), QJsonArray::fromStringList(t.characterArchetypes));
    o.insert(QStringLiteral("palette"), t.palette);
    o.insert(QStringLiteral("negativePrompt"), t.negativePrompt);
    o.insert(QStringLiteral("qualityThresholds"), t.qualityThresholds);
    QJsonObject sections;
    sections.insert(QStringLiteral("system"), t.system);
    sections.insert(QStringLiteral("bible"), t.bibleStage);
    sections.insert(QStringLiteral("scenes"), t.scenesStage);
    sections.insert(QStringLiteral("prompt"), t.promptStage);
    if (!t.shotsStage.isEmpty())
        sections.insert(QStringLiteral("shots"), t.shotsStage);
    o.insert(QStringLiteral("sections"), sections);
    return o;
}

QStringList PromptLibrary::validate(const PromptTemplate& t)
{
    QStringList problems;
    static const QRegularExpression idPattern(QStringLiteral("^[a-z0-9][a-z0-9._-]{0,63}$"));
    if (t.id.isEmpty())
        problems << QStringLiteral("id: required");
    else if (!idPattern.match(t.id).hasMatch())
        problems << QStringLiteral("id: '%1' must be lower-case letters, digits, '.', '_' or '-' (at most 64)").arg(t.id);
    int major = 0, minor = 0;
    if (t.version.isEmpty())
        problems << QStringLiteral("version: required (\"major.minor\", e.g. \"1.0\")");
    else if (!versionParts(t.version, &major, &minor))
        problems << QStringLiteral("version: '%1' is not \"major.minor\" (e.g. \"1.0\")").arg(t.version);
    if (t.genre.isEmpty())
        problems << QStringLiteral("genre: required");
    else if (!knownGenres().contains(t.genre))
        problems << QStringLiteral("genre: '%1' is not one of %2").arg(t.genre, knownGenres().join(QStringLiteral(", ")));
    if (t.tokenLimit <= 0)
        problems << QStringLiteral("tokenLimit: must be greater than 0");
    if (t.contextLength < 0)
        problems << QStringLiteral("contextLength: must not be negative");
    else if (t.contextLength > 0 && t.tokenLimit >= t.contextLength)
        problems << QStringLiteral("tokenLimit: %1 leaves no room for the prompt in a context of %2 tokens")
                        .arg(t.tokenLimit)
                        .arg(t.contextLength);

    const QStringList known = knownPlaceholders();
    const std::pair<QString, const QString*> sections[] = {
        {QStringLiteral("system"), &t.system},
        {QStringLiteral("bible"), &t.bibleStage},
        {QStringLiteral("scenes"), &t.scenesStage},
        {QStringLiteral("prompt"), &t.promptStage},
        {QStringLiteral("shots"), &t.shotsStage},
    };
    for (const auto& [name, text] : sections) {
        // The shots section is optional: templates before 2.0 have none (no shots stage then).
        if (name == QLatin1String("shots") && t.shotsStage.isEmpty())
            continue;
        if (text->trimmed().isEmpty()) {
            problems << QStringLiteral("sections.%1: required and must not be empty").arg(name);
            continue;
        }
        const QStringList present = placeholdersIn(*text);
        for (const QString& required : requiredPlaceholders(name))
            if (!present.contains(required))
                problems << QStringLiteral("sections.%1: missing placeholder {{%2}}").arg(name, required);
        // A typo such as {{scene_json}} would reach the model verbatim; refuse it up front.
        for (const QString& p : present)
            if (!known.contains(p))
                problems << QStringLiteral("sections.%1: unknown placeholder {{%2}}").arg(name, p);
    }
    return problems;
}

PromptLibrary PromptLibrary::load(const QStringList& userDirs, QStringList* problems)
{
    QStringList local;
    QVector<PromptTemplate> found;
    loadDir(QStringLiteral(":/prompts"), &found, &local);
    for (const QString& dir : userDirs) {
        if (dir.isEmpty() || !QFileInfo(dir).isDir())
            continue; // an operator directory that does not exist yet is normal
        loadDir(dir, &found, &local);
    }
    PromptLibrary lib;
    for (const PromptTemplate& t : std::as_const(found)) {
        auto same = std::find_if(lib.m_templates.begin(), lib.m_templates.end(),
                                 [&](const PromptTemplate& o) { return o.key() == t.key(); });
        if (same != lib.m_templates.end()) {
            // Released templates are immutable: an operator file cannot silently replace a
            // built-in version, and two operator files must not claim the same version.
            local << QStringLiteral("%1: %2 is already defined by %3; skipped (give it a new version)")
                         .arg(t.sourcePath, t.key(), same->sourcePath);
            continue;
        }
        lib.m_templates.append(t);
    }
    std::sort(lib.m_templates.begin(), lib.m_templates.end(), [](const PromptTemplate& a, const PromptTemplate& b) {
        if (a.id != b.id)
            return a.id < b.id;
        return compareVersions(a.version, b.version) > 0; // newest first within an id
    });
    if (problems)
        *problems += local;
    return lib;
}

QVector<PromptTemplate> PromptLibrary::templates() const
{
    return m_templates;
}

QStringList PromptLibrary::add(const PromptTemplate& tpl)
{
    QStringList problems = validate(tpl);
    if (!problems.isEmpty())
        return problems;
    auto same = std::find_if(m_templates.begin(), m_templates.end(),
                             [&](const PromptTemplate& o) { return o.key() == tpl.key(); });
    if (same != m_templates.end())
        *same = tpl;
    else
        m_templates.append(tpl);
    std::sort(m_templates.begin(), m_templates.end(), [](const PromptTemplate& a, const PromptTemplate& b) {
        if (a.id != b.id)
            return a.id < b.id;
        return compareVersions(a.version, b.version) > 0;
    });
    return {};
}

std::optional<PromptTemplate> PromptLibrary::find(const QString& idOrKey) const
{
    const qsizetype at = idOrKey.indexOf(QLatin1Char('@'));
    const QString id = at < 0 ? idOrKey : idOrKey.left(at);
    const QString version = at < 0 ? QString() : idOrKey.mid(at + 1);
    std::optional<PromptTemplate> best;
    for (const PromptTemplate& t : m_templates) {
        if (t.id != id)
            continue;
        if (!version.isEmpty()) {
            if (t.version == version)
                return t;
            continue;
        }
        if (!best || compareVersions(t.version, best->version) > 0)
            best = t;
    }
    return best;
}

std::optional<PromptTemplate> PromptLibrary::forGenre(const QString& genre) const
{
    std::optional<PromptTemplate> best;
    for (const PromptTemplate& t : m_templates) {
        if (t.genre.compare(genre, Qt::CaseInsensitive) != 0)
            continue;
        // Prefer the built-in "story-<genre>" family, then the newest version.
        const bool canonical = t.id == QStringLiteral("story-") + t.genre;
        const bool bestCanonical = best && best->id == QStringLiteral("story-") + best->genre;
        if (!best || (canonical && !bestCanonical)
            || (canonical == bestCanonical && compareVersions(t.version, best->version) > 0))
            best = t;
    }
    return best;
}

} // namespace gd::llm
