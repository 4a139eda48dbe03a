"""结业审核通过并发证: the one business action that approves a completion (第十一条) and issues the
certificates of the trainees who passed (第十二条), in one transaction — certificates sit above
training, so the action that joins them lives here."""

from peixun.training.services import completion_approve

from .services import certificates_issue_for_class


def completion_approve_and_certify(
    *,
    training_class,
    actor,
    material_review: str,
    crosscheck_review: str,
    onsite_check: str = "",
    reason: str = "",
):
    def issue(locked_class):
        return [c.number for c in certificates_issue_for_class(training_class=locked_class, actor=actor)]

    return completion_approve(
        training_class=training_class,
        actor=actor,
        material_review=material_review,
        crosscheck_review=crosscheck_review,
        onsite_check=onsite_check,
        reason=reason,
        on_approve=issue,
    )
