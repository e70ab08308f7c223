#pragma once

#include <QDate>
#include <QHash>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace gd::llm {

// One versioned story prompt template (resources/prompts/<version>/<id>.json or an operator's own
// file): metadata from the manifest fields plus the stage texts with {{placeholders}} (system, bible,
// scenes, prompt; and, from version 2.0 of the built-ins, shots).
struct PromptTemplate
{
    QString id;
    QString version; // "major.minor"
    QString genre;
    QString tone;
    QString author;
    QDate created;
    int contextLength = 0;
    int tokenLimit = 0;
    QStringList mandatoryElements;
    QStringList characterArchetypes;
    QString palette;
    QJsonObject qualityThresholds;
    QString system, bibleStage, scenesStage, promptStage; // stage texts with {{placeholders}}
    QString shotsStage; // optional (built-in templates from 2.0 on): the per-scene shot list stage; empty = no shots stage
    QString negativePrompt;  // template default; empty = StoryLoader::defaultNegativePrompt()
    int expectedFrames = 0;  // 0 = leave scenes' expectedFrames unset
    int ideaMaxChars = 0;    // idea budget in characters; 0 = a quarter of the context (contextLength tokens ~ 4 chars each / 4)
    QString sourcePath;

    QString key() const; // "story-sci-fi@1.0"
    // Idea budget in characters: ideaMaxChars when set, else a quarter of the context window.
    int ideaBudgetChars() const;
};

// The set of known prompt templates: the built-ins compiled into ":/prompts/" plus operator
// templates from user directories (same JSON format). Bad files are reported and skipped.
class PromptLibrary
{
public:
    // Built-ins from ":/prompts/" (recursively) plus every *.json under each user dir (recursively;
    // manifest.json is skipped). Each problem is "<file>: <reason>".
    static PromptLibrary load(const QStringList& userDirs, QStringList* problems);
    // Parses one template file's JSON; nullopt with problems when it is not a template at all.
    static std::optional<PromptTemplate> parse(const QJsonObject& object, const QString& sourcePath,
                                               QStringList* problems);
    static QJsonObject toJson(const PromptTemplate& tpl);

    QVector<PromptTemplate> templates() const;
    // "story-drama" = newest version of that id; "story-drama@1.0" = exactly that version.
    std::optional<PromptTemplate> find(const QString& idOrKey) const;
    // Newest template whose genre matches (case-insensitive).
    std::optional<PromptTemplate> forGenre(const QString& genre) const;
    // Adds (or replaces by key) a template; returns validate()'s problems, empty = added.
    QStringList add(const PromptTemplate& tpl);

    static QStringList validate(const PromptTemplate& tpl);
    static QStringList knownGenres();
    // Placeholders each section must contain, and all that the generator fills (section names:
    // system, bible, scenes, prompt, shots).
    static QStringList requiredPlaceholders(const QString& section);
    static QStringList knownPlaceholders();
    static QStringList placeholdersIn(const QString& text);
    // Replaces every {{name}} with values[name]; unknown placeholders are left as they are.
    static QString render(const QString& text, const QHash<QString, QString>& values);
    // Compares "major.minor" versions: <0, 0, >0.
    static int compareVersions(const QString& a, const QString& b);

private:
    QVector<PromptTemplate> m_templates;
};

} // namespace gd::llm
