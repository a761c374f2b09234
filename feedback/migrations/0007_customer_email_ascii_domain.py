"""Customers stored with a domain in Unicode move to its ASCII (IDNA) spelling, the one
feedback.ingest.normalise_email gives new orders, so their next order finds them.

Where that spelling is already another customer, the mailbox is two customers already:
both rows are left as they are, for a person to merge."""

from django.db import migrations

# Any character outside printable ASCII; the same pattern on PostgreSQL and SQLite.
NON_ASCII = r"[^ -~]"


def ascii_domain(email: str) -> str:
    # A copy of feedback.ingest.normalise_email as it was: a migration must not change
    # when the app's code does.
    local, at, domain = email.strip().rpartition("@")
    if not at:
        return email.strip().lower()
    return f"{local}@{domain.encode('idna').decode('ascii')}".lower()


def move_to_ascii_domains(apps, schema_editor) -> None:
    Customer = apps.get_model("feedback", "Customer")
    for customer in Customer.objects.filter(email__regex=NON_ASCII).only("email"):
        try:
            email = ascii_domain(customer.email)
        except UnicodeError:
            continue
        if email != customer.email and not Customer.objects.filter(email=email).exists():
            Customer.objects.filter(pk=customer.pk).update(email=email)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0006_role_permissions")]

    operations = [migrations.RunPython(move_to_ascii_domains, migrations.RunPython.noop)]
