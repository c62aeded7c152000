# Reference values for tests/reference/test_lme4_battery.py, computed once with
#   Rscript make_lme4_values.R        (run in this folder)
# R, lme4, nlme and lmerTest from Debian (r-base-core, r-cran-lme4, r-cran-nlme,
# r-cran-lmertest); versions are written to versions.txt.  Only numbers are taken from
# lme4/lmerTest (GPL); no code.  Data sets are exported to CSV beside this script:
#   sleepstudy  lme4 (Belenky et al. 2003, J Sleep Res 12:1)
#   Orthodont, Oxboys, BodyWeight  nlme (Pinheiro & Bates 2000, Mixed-Effects Models in S)
#   ChickWeight  R datasets (Crowder & Hand 1990, Analysis of Repeated Measures)
#   Dyestuff2  lme4 (Box & Tiao 1973, simulated data)
# Factor levels are put in alphabetical order so that the reference level matches the
# treatment coding of alsstats.models.lmm.formula.
suppressMessages({library(lme4); library(nlme); library(lmerTest)})
options(digits = 17)

chr <- function(d, cols) { for (c in cols) d[[c]] <- as.character(d[[c]]); d }
fac <- function(d, cols) { for (c in cols) d[[c]] <- factor(d[[c]], levels = sort(unique(d[[c]]))); d }

sleep <- chr(as.data.frame(lme4::sleepstudy), "Subject")
sleep_scaled <- transform(sleep, Reaction_s = Reaction / 1000, Hours = Days * 24)
orth <- chr(as.data.frame(nlme::Orthodont), c("Subject", "Sex"))
orth$Female <- as.numeric(orth$Sex == "Female"); orth$Male <- 1 - orth$Female
oxb <- chr(as.data.frame(nlme::Oxboys), "Subject"); oxb$Occasion <- as.integer(oxb$Occasion)
oxb3 <- oxb[oxb$Occasion <= 3, ]
bw <- chr(as.data.frame(nlme::BodyWeight), "Rat"); bw$Diet <- paste0("D", bw$Diet)
cw <- as.data.frame(datasets::ChickWeight); cw$Chick <- as.character(cw$Chick)
cw$Diet <- paste0("D", cw$Diet)
dye <- chr(as.data.frame(lme4::Dyestuff2), "Batch")
data_sets <- list(sleepstudy = sleep_scaled, Orthodont = orth, Oxboys = oxb,
                  BodyWeight = bw, ChickWeight = cw, Dyestuff2 = dye)
for (n in names(data_sets)) write.csv(data_sets[[n]], paste0(n, ".csv"), row.names = FALSE)

fits <- list(
  list(id = "sleepstudy", data = "sleepstudy", reml = TRUE,
       formula = "Reaction ~ Days + (Days | Subject)"),
  list(id = "sleepstudy_ml", data = "sleepstudy", reml = FALSE,
       formula = "Reaction ~ Days + (Days | Subject)"),
  list(id = "sleepstudy_rescaled", data = "sleepstudy", reml = TRUE,
       formula = "Reaction_s ~ Hours + (Hours | Subject)"),
  list(id = "orthodont", data = "Orthodont", reml = TRUE,
       formula = "distance ~ age * Sex + (age | Subject)"),
  list(id = "orthodont_by_sex", data = "Orthodont", reml = TRUE, variance_group = "Sex",
       formula = "distance ~ age * Sex + (age | Subject)",
       r_formula = "distance ~ age * Sex + (0 + Female + Female:age | Subject) + (0 + Male + Male:age | Subject)"),
  list(id = "oxboys", data = "Oxboys", reml = TRUE, formula = "height ~ age + (age | Subject)"),
  list(id = "oxboys_3_singular", data = "Oxboys", subset = "Occasion <= 3", reml = TRUE,
       formula = "height ~ age + (age | Subject)"),
  list(id = "bodyweight", data = "BodyWeight", reml = TRUE,
       formula = "weight ~ Time * Diet + (Time | Rat)"),
  list(id = "chickweight", data = "ChickWeight", reml = TRUE,
       formula = "weight ~ Time * Diet + (Time | Chick)"),
  list(id = "dyestuff2_singular", data = "Dyestuff2", reml = TRUE,
       formula = "Yield ~ 1 + (1 | Batch)"))

tight <- lmerControl(optimizer = "nloptwrap", calc.derivs = FALSE,
                     optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14, xtol_rel = 1e-12,
                                    ftol_rel = 1e-14, maxeval = 100000))
rows <- list(); calls <- list()
add <- function(id, quantity, term, value) rows[[length(rows) + 1]] <<- data.frame(
  fit = id, quantity = quantity, term = term, value = format(value, digits = 17))
for (f in fits) {
  d <- data_sets[[f$data]]
  if (!is.null(f$subset)) d <- d[eval(parse(text = f$subset), d), ]
  chars <- names(d)[sapply(d, is.character)]
  d <- fac(d, chars)
  rf <- if (is.null(f$r_formula)) f$formula else f$r_formula
  call <- sprintf("lmerTest::lmer(%s, data = %s%s, REML = %s, control = tight)", rf, f$data,
                  if (is.null(f$subset)) "" else sprintf("[%s, ]", f$subset), f$reml)
  # default controls (what a user gets), then converged tightly for the parameter values
  m0 <- lmerTest::lmer(as.formula(rf), data = d, REML = f$reml)
  conv <- m0@optinfo$conv$lme4$messages
  add(f$id, "default_criterion", "", if (f$reml) REMLcrit(m0) else deviance(m0, REML = FALSE))
  add(f$id, "default_singular", "", as.numeric(isSingular(m0)))
  m <- lmerTest::lmer(as.formula(rf), data = d, REML = f$reml, control = tight)
  cf <- coef(summary(m))
  for (k in seq_len(nrow(cf))) {
    add(f$id, "fixed", rownames(cf)[k], cf[k, "Estimate"])
    add(f$id, "se", rownames(cf)[k], cf[k, "Std. Error"])
    add(f$id, "df", rownames(cf)[k], cf[k, "df"])
  }
  add(f$id, if (f$reml) "reml_criterion" else "deviance", "",
      if (f$reml) REMLcrit(m) else deviance(m, REML = FALSE))
  add(f$id, "sigma", "", sigma(m))
  add(f$id, "singular", "", as.numeric(isSingular(m)))
  add(f$id, "default_converged", "", as.numeric(is.null(conv)))
  vc <- as.data.frame(VarCorr(m))
  for (k in seq_len(nrow(vc))) add(f$id, "varcorr",
    paste(vc$grp[k], vc$var1[k], ifelse(is.na(vc$var2[k]), "", vc$var2[k]), sep = "|"),
    vc$sdcor[k])
  calls[[length(calls) + 1]] <- data.frame(fit = f$id, data = f$data,
    subset = ifelse(is.null(f$subset), "", f$subset), reml = f$reml,
    formula = f$formula, variance_group = ifelse(is.null(f$variance_group), "",
                                                 f$variance_group),
    r_call = call, default_message = ifelse(is.null(conv), "", paste(conv, collapse = "; ")))
}
write.csv(do.call(rbind, rows), "lme4_values.csv", row.names = FALSE)
write.csv(do.call(rbind, calls), "fits.csv", row.names = FALSE)
writeLines(c(R.version.string, paste("lme4", packageVersion("lme4")),
             paste("nlme", packageVersion("nlme")), paste("lmerTest", packageVersion("lmerTest")),
             paste("Matrix", packageVersion("Matrix"))), "versions.txt")
