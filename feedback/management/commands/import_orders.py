import os
import sys
from pathlib import Path
from typing import IO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError
from tqdm import tqdm

from feedback.ingest import CSV_HEADER
from feedback.services.order_import import DEFAULT_BATCH_SIZE, ImportFailed, orders_import_csv


class Command(BaseCommand):
    help = (
        "Import orders from a CSV file with the header "
        f"{','.join(CSV_HEADER)}. Bad rows are reported as `line N: field: reason` and "
        "skipped; good rows are imported in batches (one transaction each). Re-importing "
        "the same file changes nothing. Exits 0 when every row was imported; 1 when a row "
        "was rejected (the good rows are imported all the same) or the file could not be "
        "read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the CSV file (UTF-8, with or without BOM)")
        parser.add_argument(
            "--errors", type=Path, help="also write each bad row's report line to this file"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"orders per transaction (default {DEFAULT_BATCH_SIZE})",
        )

    def handle(
        self, *args: object, path: Path, errors: Path | None, batch_size: int, **options: object
    ) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            source = path.open("rb")
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from None
        errors_file = self._open_errors(errors)
        # The bar goes to stderr, and only on a terminal: a log or a pipe gets the summary.
        bar = tqdm(
            total=os.fstat(source.fileno()).st_size,
            unit="B",
            unit_scale=True,
            desc="import_orders",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
        )
        try:
            report = orders_import_csv(
                file=source,
                on_error=lambda line: self._report(line, errors_file),
                on_batch=lambda: bar.update(source.tell() - bar.n),
                batch_size=batch_size,
            )
        except ImportFailed as error:
            imported = f" (rows before it: {error.report})" if error.report.rows else ""
            raise CommandError(f"{path}: {error}{imported}") from None
        except OperationalError as error:
            # Batches committed before stay; a re-run skips them as unchanged.
            raise CommandError(f"the database failed, import stopped: {error}") from None
        finally:
            bar.close()
            source.close()
            if errors_file:
                errors_file.close()
        self.stdout.write(f"import_orders: {report}")
        if report.rejected:
            # A script or a scheduler sees the failure in the exit status.
            raise CommandError(
                f"{report.rejected} row{'s' if report.rejected > 1 else ''} rejected (reported "
                "above by line); the other rows were imported"
            )

    def _open_errors(self, errors: Path | None) -> IO[str] | None:
        if errors is None:
            return None
        try:
            return errors.open("w", encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot write {errors}: {error.strerror}") from None

    def _report(self, line: str, errors_file: IO[str] | None) -> None:
        # The progress bar is cleared while the line is written, then drawn again below it.
        with tqdm.external_write_mode(file=sys.stderr):
            self.stderr.write(line)
        if errors_file:
            errors_file.write(line + "\n")
