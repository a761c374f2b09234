"""The two staff roles ("Staff" reads feedback; "Ops" also edits the invitation policy),
and the live policy's row."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_MODELS = [
    "customer",
    "order",
    "orderitem",
    "invitation",
    "response",
    "followup",
    "emaillog",
    "invitationpolicy",
    "policyversion",
]
ROLES = {
    "Staff": [f"view_{m}" for m in VIEW_MODELS] + ["change_followup"],
    "Ops": [f"view_{m}" for m in VIEW_MODELS] + ["change_followup", "change_invitationpolicy"],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="feedback", codename__in=codenames)
        )


def create_live_policy(apps, schema_editor):
    # The live policy always exists, with DESIGN §3's defaults: reading it is one query.
    apps.get_model("feedback", "InvitationPolicy").objects.get_or_create(pk=1)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_groups, remove_groups),
        migrations.RunPython(create_live_policy, migrations.RunPython.noop),
    ]
