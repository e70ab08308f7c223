#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QPair>
#include <QJsonValue>
#include <QSet>
#include <QString>
#include <QStringList>
#include <QVector>

namespace gd::sandbox {

// The sandbox LLM's "model": fills any JSON schema (type, properties, required, enum, items,
// minItems/maxItems, minLength/maxLength) with readable story content chosen by property name, and writes
// short free-text paragraphs. Deterministic for a seed, varied across seeds. Names and visual descriptors
// found in the request's last user message are reused, so a prompt stage that injects the bible's descriptors
// gets them back in the render prompts. Story-format fields have their own writers: reference-sheet prompts,
// looks and locations in a bible, and shot lists (frames that name the visible characters, looks those
// characters have in the request's bible).
class StoryCorpus
{
public:
    struct Character
    {
        QString name;
        QString role;
        QString visualDescriptor;
        QStringList looks; // look ids the request's bible gives this character (shots stage)
    };

    // context: the request's last user message. breadth in (0, 1]: the share of each word list that sampling
    // may reach (top_p narrows it; 1 = the whole corpus).
    StoryCorpus(quint64 seed, const QString& context, double breadth = 1.0);

    // A value valid against `schema`. fewerItems: every array with minItems >= 1 gets one item fewer than its
    // minItems (the schema-invalid fault).
    QJsonValue fill(const QJsonObject& schema, bool fewerItems = false);
    // A short readable paragraph (free-text answers).
    QString paragraph();
    // 150-500 tokens (by the chars/4 estimate) of comma-separated render prompt text.
    QString renderPrompt();

    QVector<Character> cast() const { return m_cast; }
    QStringList contextWords() const { return m_contextWords; }

    // Seed of a chat request: `seed` when it is a number, else a stable hash of the messages.
    static quint64 seedForRequest(const QJsonObject& body);
    static quint64 hash(const QByteArray& bytes); // FNV-1a 64
    static QStringList themeVocabulary();

private:
    QJsonValue fillValue(const QJsonObject& schema, const QString& name, int depth, int index);
    QJsonObject resolveRef(const QJsonObject& schema) const;
    QJsonValue fillArray(const QJsonObject& schema, const QString& name, int depth);
    QString stringFor(const QString& name, int index);
    QString sceneSummary();
    QString sceneTitle();
    QString storyTitle();
    QString fitLength(QString text, int minLength, int maxLength, const QString& name);
    // Story-format writers (docs/STORY_FORMAT.md): see stringFor().
    QString containerName() const;
    int containerIndex(int up) const;
    QString lookVariant(const Character& c, int lookIndex, bool descriptor) const;
    QString locationPart(int index, bool descriptor) const;
    QString framePrompt(int shotIndex, bool last);
    QString shotDescription();
    QStringList shotCast(const QJsonObject& shotSchema, int index);
    QString lookFor(const QString& name, const QJsonArray& lookEnum, int shotIndex) const;
    quint64 next();
    int pick(int n);
    template <typename T> const T& choose(const QVector<T>& list) { return list.at(pick(int(list.size()))); }
    QString chooseFrom(const QStringList& list);
    void extractContext(const QString& context);
    void buildCast();

    quint64 m_state;
    double m_breadth = 1.0;
    bool m_fewerItems = false;
    QJsonObject m_root;       // schema being filled ($ref resolution)
    QStringList m_objectCast; // characters present in the object being filled (scene coherence)
    QStringList m_usedTitles;
    QSet<QString> m_usedPhrases;
    int m_budget = 0;     // values fill() may still produce
    int m_charBudget = 0; // characters minLength padding may still add
    QVector<Character> m_cast;
    QStringList m_contextDescriptors; // visualDescriptor values found in the context
    QStringList m_contextWords;       // salient words of the context
    QString m_setting;
    int m_themeCursor = 0;
    int m_depth = 0; // depth of the string being filled (1 = a top-level property)
    QVector<QPair<QString, int>> m_containers; // (array name, item index) of the arrays being filled, outermost first
    QStringList m_shotCast;                    // characters visible in the shot being filled
    int m_locationOffset = 0;
};

} // namespace gd::sandbox
