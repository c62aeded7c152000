# Reference group-sequential boundaries for alsstats' tests (run once; CI reads the JSON).
# Rscript boundaries.R > boundaries.json
library(rpact)
designs <- list(
  list(name = "OF_asOF_2looks_0.5", typeOfDesign = "asOF", info = c(0.5, 1)),
  list(name = "OF_asOF_3looks_0.3_0.6", typeOfDesign = "asOF", info = c(0.3, 0.6, 1)),
  list(name = "OF_asOF_4looks_equal", typeOfDesign = "asOF", info = c(0.25, 0.5, 0.75, 1)),
  list(name = "P_asP_3looks_equal", typeOfDesign = "asP", info = c(1/3, 2/3, 1)),
  list(name = "P_asP_2looks_0.4", typeOfDesign = "asP", info = c(0.4, 1))
)
num <- function(x) paste0("[", paste(sprintf("%.12g", x), collapse = ", "), "]")
out <- c()
for (d in designs) {
  call <- sprintf("getDesignGroupSequential(kMax = %d, alpha = 0.025, sided = 1, typeOfDesign = \"%s\", informationRates = c(%s))",
                  length(d$info), d$typeOfDesign, paste(sprintf("%.12g", d$info), collapse = ", "))
  g <- eval(parse(text = call))
  out <- c(out, sprintf(
    '  {"name": "%s", "r_call": "%s", "alpha": 0.025, "sided": 1, "type_of_design": "%s", "information_rates": %s, "critical_values": %s, "alpha_spent": %s, "stage_levels": %s}',
    d$name, gsub('"', '\\\\"', call), d$typeOfDesign, num(g$informationRates), num(g$criticalValues),
    num(g$alphaSpent), num(g$stageLevels)))
}
cat('{\n"rpact_version": "', as.character(packageVersion("rpact")), '",\n"r_version": "', R.version.string, '",\n"designs": [\n', paste(out, collapse = ",\n"), '\n]\n}\n', sep = "")
