from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.forms.models import model_to_dict

from feedback.models import InvitationPolicy, PolicyVersion

AUDITED_FIELDS = [
    f.name for f in InvitationPolicy._meta.concrete_fields if f.name not in ("id", "updated_at")
]


class PolicyChangedMeanwhile(Exception):
    """The stored policy is no longer the one the editor started from."""


def policy_snapshot(policy: InvitationPolicy) -> dict:
    values = model_to_dict(policy, fields=AUDITED_FIELDS)
    return {name: _plain(value) for name, value in values.items()}


def _plain(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


def policy_changes(before: dict, after: dict) -> dict:
    """Each audited field whose value differs: {field: {"before": ..., "after": ...}}."""
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in AUDITED_FIELDS
        if before.get(name) != after.get(name)
    }


def policy_rebase(
    *, edited: InvitationPolicy, base: dict, live: InvitationPolicy
) -> InvitationPolicy:
    """An unsaved policy: the live one, with only the fields the editor changed (from the
    snapshot `base` they started from) taken from `edited`. A colleague's save stays."""
    rebased = InvitationPolicy(**model_to_dict(live, fields=AUDITED_FIELDS))
    for name in policy_changes(base, policy_snapshot(edited)):
        setattr(rebased, name, getattr(edited, name))
    return rebased


@transaction.atomic
def policy_save(
    *,
    policy: InvitationPolicy,
    changed_by: AbstractBaseUser | None,
    based_on: dict | None = None,
) -> PolicyVersion | None:
    """Save the live policy and audit the change: who, when, each field's before/after.

    With `based_on` (the snapshot an editor started from), refuse with PolicyChangedMeanwhile
    if the stored policy differs from it: the check runs under the row lock, so of two
    editors saving at once the second is always told. Only future decisions use the
    policy: nothing already scheduled or sent is re-sent.
    """
    policy.full_clean()
    stored = InvitationPolicy.objects.select_for_update().filter(pk=policy.pk).first()
    before = policy_snapshot(stored) if stored else {}
    if based_on is not None and stored and policy_changes(based_on, before):
        raise PolicyChangedMeanwhile
    policy.save()
    after = policy_snapshot(policy)
    changes = policy_changes(before, after)
    if not changes:
        return None
    return PolicyVersion.objects.create(
        policy=policy, changed_by=changed_by, changes=changes, snapshot=after
    )
