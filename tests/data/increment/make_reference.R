# Reference values for alsstats.validation.reclassification, computed in plain R (no
# packages) directly from the published formulas:
#   NRI (categorical and continuous): Pencina et al. 2008 Stat Med 27:157; Pencina,
#     D'Agostino & Steyerberg 2011 Stat Med 30:11 (category-free NRI)
#   IDI: Pencina et al. 2008
#   net benefit: Vickers & Elkin 2006 Med Decis Making 26:565, NB = TP/n - FP/n * t/(1-t)
# Run from this folder:  Rscript make_reference.R
# It writes predictions.csv (the data) and reference.csv (the values).
set.seed(20260415)
n <- 240
y <- rbinom(n, 1, 0.45)
x1 <- rnorm(n, mean = 1.0 * y)            # the base marker
x2 <- rnorm(n, mean = 0.6 * y)            # the added marker
p_old <- plogis(-0.5 + 1.0 * x1)
p_new <- plogis(-0.7 + 1.0 * x1 + 0.6 * x2)
p_old <- round(p_old, 6)                  # stored with 6 decimals; values computed from these
p_new <- round(p_new, 6)
write.csv(data.frame(y = y, p_old = p_old, p_new = p_new), "predictions.csv",
          row.names = FALSE)

ev <- y == 1
ne <- y == 0
cut_cat <- function(p, cuts) findInterval(p, cuts)   # p >= c lies above c
cuts <- c(0.25, 0.75)
mv_cat <- sign(cut_cat(p_new, cuts) - cut_cat(p_old, cuts))
mv_con <- sign(p_new - p_old)
nri_parts <- function(mv) {
  c(events = (sum(mv[ev] > 0) - sum(mv[ev] < 0)) / sum(ev),
    nonevents = (sum(mv[ne] < 0) - sum(mv[ne] > 0)) / sum(ne))
}
cat_p <- nri_parts(mv_cat)
con_p <- nri_parts(mv_con)
idi <- (mean(p_new[ev]) - mean(p_old[ev])) - (mean(p_new[ne]) - mean(p_old[ne]))
brier <- function(p) mean((p - y)^2)
logs <- function(p) mean(y * log(p) + (1 - y) * log(1 - p))
nb <- function(p, t) (sum(p >= t & ev) - sum(p >= t & ne) * t / (1 - t)) / n
thr <- c(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
out <- data.frame(
  metric = c("nri_categorical", "nri_categorical_events", "nri_categorical_nonevents",
             "nri_continuous", "nri_continuous_events", "nri_continuous_nonevents", "idi",
             "delta_brier", "delta_log_score",
             paste0("net_benefit_old@", thr), paste0("net_benefit_new@", thr)),
  value = c(sum(cat_p), cat_p, sum(con_p), con_p, idi,
            brier(p_new) - brier(p_old), logs(p_new) - logs(p_old),
            sapply(thr, function(t) nb(p_old, t)), sapply(thr, function(t) nb(p_new, t))))
write.csv(transform(out, value = sprintf("%.15g", value)), "reference.csv", row.names = FALSE,
          quote = FALSE)
writeLines(capture.output(sessionInfo())[1], "versions.txt")
