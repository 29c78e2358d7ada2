"""The signature experiments of structural and developmental plasticity, as functions that
return their numbers: the tests assert on them, ``notebooks/structural_plasticity.ipynb`` plots
them, ``benchmarks/structural_signatures.py`` runs them over seeds. One module per experiment:

* :mod:`.turnover` — synapse turnover under a fixed budget;
* :mod:`.neurogenesis` — units born for a new class;
* :mod:`.dentate` — the dentate gyrus's code across tasks, with and without neurogenesis;
* :mod:`.maps` — a cortical map's expansion with use, and amputation;
* :mod:`.ocular_dominance` — monocular deprivation inside and after a critical period;
* :mod:`.reward_capture` — maladaptive plasticity: a reward signal that captures a network.
"""

from hebbnet.signatures.dentate import DentateCodes, dentate_codes_across_tasks
from hebbnet.signatures.maps import (
    FINGERS,
    RECEPTORS,
    Amputation,
    amputation,
    develop_map,
    finger_stimuli,
    map_expansion,
    skin_regions,
)
from hebbnet.signatures.neurogenesis import NewClass, neurogenesis_for_a_new_class
from hebbnet.signatures.ocular_dominance import (
    EYE,
    Deprivation,
    binocular_stimuli,
    eye_patterns,
    monocular_deprivation,
    ocular_dominance,
)
from hebbnet.signatures.reward_capture import CUES, DRUG, FOOD, Capture, reward_capture
from hebbnet.signatures.turnover import Turnover, correlated_inputs, synapse_turnover

__all__ = [
    "CUES", "DRUG", "EYE", "FINGERS", "FOOD", "RECEPTORS", "Amputation", "Capture", "DentateCodes",
    "Deprivation", "NewClass", "Turnover", "amputation", "binocular_stimuli", "correlated_inputs",
    "dentate_codes_across_tasks", "develop_map", "eye_patterns", "finger_stimuli", "map_expansion",
    "monocular_deprivation", "neurogenesis_for_a_new_class", "ocular_dominance", "reward_capture",
    "skin_regions", "synapse_turnover",
]
