from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.forms.models import model_to_dict

from feedback.models import InvitationPolicy, PolicyVersion

AUDITED_FIELDS = [
    f.name for f in InvitationPolicy._meta.concrete_fields if f.name not in ("id", "updated_at")
]


def policy_snapshot(policy: InvitationPolicy) -> dict:
    values = model_to_dict(policy, fields=AUDITED_FIELDS)
    return {name: _plain(value) for name, value in values.items()}


def _plain(value: object) -> object:
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def policy_save(
    *, policy: InvitationPolicy, changed_by: AbstractBaseUser | None
) -> PolicyVersion | None:
    """Save the live policy and audit the change: who, when, each field's before/after.

    Only future decisions use it: nothing already scheduled or sent is re-sent.
    """
    policy.full_clean()
    stored = InvitationPolicy.objects.select_for_update().filter(pk=policy.pk).first()
    before = policy_snapshot(stored) if stored else {}
    policy.save()
    after = policy_snapshot(policy)
    changes = {
        name: {"before": before.get(name), "after": value}
        for name, value in after.items()
        if before.get(name) != value
    }
    if not changes:
        return None
    return PolicyVersion.objects.create(
        policy=policy, changed_by=changed_by, changes=changes, snapshot=after
    )
