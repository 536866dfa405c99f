"""Train, backtest or publish the churn model: python manage.py churn_model train|backtest|publish."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts import reporting_time
from churn import training, wording
from churn.models import ChurnModel
from churn.scoring import scores_write
from metrics.management.commands._dates import iso_date


class Command(BaseCommand):
    help = "Train a churn model version on your history, backtest a version, or publish one that beats the health score."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["train", "backtest", "publish"])
        parser.add_argument("--today", type=iso_date, help="The day whose history counts (default: today).")
        parser.add_argument("--model-version", dest="model_version", type=int, help="backtest/publish: the version (default: published/newest draft).")
        parser.add_argument("--seed", type=int, default=0, help="train: seed of the folds and the bootstrap.")
        parser.add_argument("--horizon", type=int, default=training.HORIZON_DAYS, help="train: days until 'not paying'.")
        parser.add_argument("--test-days", type=int, default=training.TEST_DAYS, help="train: days of held-out dates.")
        parser.add_argument("--every", type=int, default=training.EVERY_DAYS, help="train: days between two dates.")
        parser.add_argument("--publish", action="store_true", help="train: publish the version if it qualifies.")
        parser.add_argument("--score", action="store_true", help="publish/train: store today's probabilities after publishing.")

    def handle(self, *args, action, today, **options):
        today = today or reporting_time.today()
        try:
            getattr(self, f"_{action}")(today, **options)
        except (training.TrainingError, training.PublishError) as exc:
            raise CommandError(str(exc)) from None

    @staticmethod
    def _progress(dates):
        return tqdm(dates, unit="date", file=sys.stderr, disable=not sys.stderr.isatty())

    def _train(self, today, *, seed, horizon, test_days, every, publish, score, **_):
        model = training.model_train(today=today, horizon=horizon, every_days=every, test_days=test_days, seed=seed,
                                     progress=self._progress)  # fmt: skip
        self._report(model)
        if publish and model.qualifies:
            self._publish_and_score(model, today, score)
        elif publish:
            self.stdout.write(f"v{model.version} stays a draft: it does not beat the health score")

    def _backtest(self, today, *, model_version, **_):
        model = self._model(model_version, ChurnModel.objects.exclude(status=ChurnModel.Status.DRAFT))
        run = training.model_backtest(model=model, today=today, progress=self._progress)
        ev = run.evaluation
        self.stdout.write(f"v{model.version} on {run.start} to {run.end}: {ev['rows']} customer-dates, "
                          f"{ev['churned_customers']} churned customers")  # fmt: skip
        self._figures(ev)

    def _publish(self, today, *, model_version, score, **_):
        model = self._model(model_version, ChurnModel.objects.filter(status=ChurnModel.Status.DRAFT))
        self._publish_and_score(model, today, score)

    def _publish_and_score(self, model, today, score):
        model = training.model_publish(model=model)
        self.stdout.write(f"published v{model.version}")
        if score:
            self.stdout.write(f"stored {scores_write(today)} churn probabilities of {today}")

    def _model(self, version, candidates):
        model = candidates.filter(version=version).first() if version else candidates.order_by("-version").first()
        if model is None:
            raise CommandError(f"no such version: {version}" if version else "no version to use: train one first")
        return model

    def _report(self, model):
        ev = model.evaluation
        self.stdout.write(
            f"v{model.version} trained in {model.trained_seconds:.1f}s on {model.train_start} to {model.train_end}, "
            f"tested on {model.test_start} to {model.test_end}: {ev['rows']} customer-dates, "
            f"{ev['customers']} customers, {ev['churned_customers']} churned"
        )
        self._figures(ev)
        for check in model.verdict:
            self.stdout.write(("  ok  " if check["ok"] else "  NO  ") + wording.check_sentence(check))
        self.stdout.write("qualifies for publishing" if model.qualifies else "does not qualify: it stays a draft")

    def _figures(self, ev):
        cmp = ev["comparison"]
        for who, key in (("model ", "model"), ("health", "rule")):
            summary = ev["model" if key == "model" else "health"]
            ci = cmp[key]["ci"] or (float("nan"), float("nan"))
            inside = sum(d["inside"] for d in summary["calibration"])
            self.stdout.write(
                f"  {who}  AUC {cmp[key]['auc']:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]  lift {summary['top_decile_lift'] or 0:.2f}  "
                f"Brier {summary['brier']:.4f}  calibrated deciles {inside}/{len(summary['calibration'])}"
            )
        ci = cmp["difference"]["ci"] or (float("nan"), float("nan"))
        self.stdout.write(f"  AUC difference {cmp['difference']['auc']:+.3f} [{ci[0]:+.3f}, {ci[1]:+.3f}]")
