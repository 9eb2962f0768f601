"""project_comment: any participant comments on a project during its public comment period
(up to and including its `comments_until` day). The comment's text is stored off the journal;
its hash and a summary are recorded, in order."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.effects import Changes
from ledger.errors import Reason, Rejected, require
from ledger.instructions import define_schema
from ledger.ops import Context
from ledger.payloads import Payload
from projects.model import Comment, load_project
from projects.reasons import ProjectReason
from projects.rules import CCER_SCHEME, required_rules


@dataclass(frozen=True)
class ProjectComment(Payload):
    project: str
    comment_hash: str
    summary: str

    def check(self) -> None:
        if not self.summary.strip():
            raise Rejected(Reason.malformed_instruction, "a comment gives a summary")


SCHEMA = define_schema(
    "project_comment", "ProjectComment", ProjectComment,
    ("project", "string", "id"),
    ("commentHash", "string", "sha256"),
    ("summary", "string", "text"),
)


def project_comment(p: ProjectComment, ctx: Context) -> Changes:
    project = load_project(ctx, p.project)
    today = required_rules(ctx.rules(CCER_SCHEME)).calendar.market_day(ctx.now)
    require(today.isoformat() <= project.comments_until, ProjectReason.comment_period_over,
            f"{project.id}'s ended on {project.comments_until}, today is {today}")
    author = ctx.signers[0].participant.id  # every instruction is signed by someone
    return Changes(rows=[Comment(project.id, ctx.seq, author, p.comment_hash, p.summary).row()])
