// WorkflowDirectory: every workflow of a directory (the configured workflows_dir), loaded,
// validated and cross-checked as one deployment.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/workflow/diagnostics.hpp"
#include "engine/workflow/validator.hpp"
#include "engine/workflow/workflow_definition.hpp"

namespace artistsaid::workflow {

/// The workflows of one directory: each *.yaml / *.yml file directly in it (not in
/// subdirectories), in file-name order.
///
/// Besides validating each file, it checks what only the set can tell: two files must not
/// define the same workflow name, and a `uses: workflow.run` step must name a workflow of
/// the directory, pass only inputs the child declares and every input it requires (when
/// `workflow` and `inputs` are written literally).
///
/// Thread-safety: immutable after load(); share it const.
class WorkflowDirectory {
public:
    /// Loads `dir`. Throws InputError if it is not a readable directory; problems in files
    /// are collected in invalid(), not thrown.
    static WorkflowDirectory load(const std::filesystem::path& dir, const Validator& validator);

    /// Loads the given files as if they were one directory.
    static WorkflowDirectory load_files(const std::vector<std::filesystem::path>& files,
                                        const Validator& validator);

    /// The valid workflows, ordered by name.
    const std::vector<WorkflowDefinition>& workflows() const noexcept { return workflows_; }
    const WorkflowDefinition* find(std::string_view name) const noexcept;
    std::vector<std::string> names() const;

    /// The diagnostics of each file with at least one problem, in file order.
    const std::vector<Diagnostics>& invalid() const noexcept { return invalid_; }
    std::size_t file_count() const noexcept { return file_count_; }
    bool ok() const noexcept { return invalid_.empty(); }

private:
    std::vector<WorkflowDefinition> workflows_;
    std::vector<Diagnostics> invalid_;
    std::size_t file_count_ = 0;
};

/// The *.yaml and *.yml files directly in `dir`, sorted. Throws InputError if `dir` is not
/// a readable directory.
std::vector<std::filesystem::path> workflow_files(const std::filesystem::path& dir);

}  // namespace artistsaid::workflow
