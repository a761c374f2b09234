"""Each role gets what it does and no more (issue 14).

- Staff (viewers) read feedback and work the contact queue. They no longer open the
  customer list, orders, invitations or email logs, which between them list every
  customer's address: they reach a customer from the contact queue, which shows only
  those who asked to be contacted.
- Ops are the privacy role: they export and erase a customer's data.
- Follow-ups change only through the contact queue's actions (work_followup), which log
  who did what; nobody keeps change_followup, and the admin shows follow-ups read-only.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANT = {
    "Staff": ["work_followup", "view_followupnote"],
    "Ops": ["work_followup", "view_followupnote", "export_customer_data"],
}
REVOKE = {
    "Staff": [
        "change_followup",
        "view_customer",
        "view_order",
        "view_orderitem",
        "view_invitation",
        "view_emaillog",
    ],
    "Ops": ["change_followup"],
}


def _permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="feedback", codename__in=codenames)


def _set_roles(apps, grant, revoke):
    # Permissions are normally created after migrate; make sure the new ones exist now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    for name in grant:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, grant[name]))
        group.permissions.remove(*_permissions(apps, revoke[name]))


def narrow_roles(apps, schema_editor):
    _set_roles(apps, grant=GRANT, revoke=REVOKE)


def widen_roles(apps, schema_editor):
    _set_roles(apps, grant=REVOKE, revoke=GRANT)


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0005_dashboard_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="customer",
            options={
                "permissions": [("export_customer_data", "Can export and erase customer data")]
            },
        ),
        migrations.AlterModelOptions(
            name="followup",
            options={"permissions": [("work_followup", "Can work the contact queue")]},
        ),
        migrations.RunPython(narrow_roles, widen_roles),
    ]
