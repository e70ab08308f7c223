#pragma once

#include "llm/StoryService.h"

#include <QCommandLineParser>
#include <QStringList>

#include <functional>

// The LLM side of the command line: `gemdirect story`, `gemdirect templates`, and the story stage
// of `gemdirect run --idea`.
namespace cli {

// Adds --idea, --genre, --scenes, --llm-url, --model, --template, --seed, --llm-token to a parser.
void addStoryOptions(QCommandLineParser& parser);
// Builds the request and service options from parsed options; errors are appended.
gd::llm::StoryRequest storyRequestFrom(const QCommandLineParser& parser, QStringList* errors);
gd::llm::StoryServiceOptions storyServiceOptionsFrom(const QCommandLineParser& parser);

struct StoryOutcome
{
    gd::llm::StoryService::Outcome outcome = gd::llm::StoryService::Outcome::GenerationFailed;
    gd::story::Story story;
    QJsonObject llm;
    QJsonArray prompts;
    gd::telemetry::LlmHealthInfo health;
    QString error;
};

// Runs the StoryService in the application's event loop, streaming tokens to stdout unless quiet;
// Ctrl-C cancels the request (nothing half-written). Blocks until it is done.
StoryOutcome generateStory(const gd::llm::StoryRequest& request, const gd::llm::StoryServiceOptions& options, bool quiet);

int storyCommand(const QStringList& arguments);
int templatesCommand(const QStringList& arguments);
// <AppDataLocation>/prompts: operators' own templates.
QString userTemplateDir();

} // namespace cli
