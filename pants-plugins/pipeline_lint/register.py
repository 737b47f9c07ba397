"""Pants backend `pipeline_lint`: the repository's conventions as linters of `./pants lint`.

Enabled in pants.toml ([GLOBAL].pythonpath = ["%(buildroot)s/pants-plugins"], backend "pipeline_lint").
"""

from pipeline_lint import rules as lint_rules


def rules():
    return lint_rules.rules()
