"""Rebuild the two binary documents of the demo corpus from the text below.

    python vault/demo/make_binaries.py

writes decision-extradition.pdf (fpdf2, DejaVu Sans so accents survive) and memoire-defense.docx
(python-docx) next to this file. Every name, place and organisation in them is fictional.
Dates and archive timestamps are fixed, so a rebuild can be compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import zipfile
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from fpdf import FPDF

HERE = Path(__file__).resolve().parent
PDF_PATH = HERE / "corpus" / "decision-extradition.pdf"
DOCX_PATH = HERE / "corpus" / "memoire-defense.docx"

PDF_TITLE = "Arrêt n° 2024/0312 — Chambre de l'instruction — Extradition"
DOCX_TITLE = "Mémoire en défense — Demande d'extradition de la République de Keldavie"

# A block is (kind, text). Kinds: "center" (centred bold), "title" (large centred bold),
# "heading", "subheading", "para", "signature" (two names side by side, separated by "|").

DECISION: list[tuple[str, str]] = [
    ("center", "RÉPUBLIQUE FRANÇAISE\nAU NOM DU PEUPLE FRANÇAIS"),
    ("center", "COUR D'APPEL DE LYON\nCHAMBRE DE L'INSTRUCTION"),
    ("title", "ARRÊT DU 16 AVRIL 2024"),
    ("center", "Arrêt n° 2024/0312 — Dossier n° 2023/01847\nMatière : extradition — République de Keldavie"),
    ("heading", "COMPOSITION DE LA COUR"),
    ("para", "Lors des débats et du délibéré : M. Jean-Baptiste Ferréol, président ; Mme Sophie "
             "Arnault-Diallo et M. Karim Bensaïd, conseillers, désignés conformément à l'article 191 "
             "du code de procédure pénale. Ministère public : Mme Hélène Vautrin, avocate générale. "
             "Greffier : M. Hadrien Mercadier, lors des débats et du prononcé de l'arrêt."),
    ("heading", "DÉBATS"),
    ("para", "À l'audience publique du 12 mars 2024 ont été entendus M. le président en son rapport, "
             "Mme l'avocate générale en ses réquisitions, Maître Béatrice Lanvallon et Maître Yao "
             "Mensah-Delorme en leurs observations, et la personne réclamée, qui a eu la parole en "
             "dernier. L'affaire a été mise en délibéré au 16 avril 2024."),
    ("heading", "PERSONNE RÉCLAMÉE"),
    ("para", "M. QUILLON Hadrien Émile, né le 3 février 1971 à Morvassa (Keldavie), fils de Mme Odile "
             "Quillon, de nationalité keldave, homme d'affaires, président de la société Ostrelis SAS, "
             "demeurant 14, rue des Tanneurs-Vieux, 69006 Lyon, titulaire du passeport keldave "
             "n° KD4471902 ; placé sous contrôle judiciaire par ordonnance du premier président de la "
             "cour d'appel de Lyon du 22 juin 2023 ; comparant libre, assisté de Maître Béatrice "
             "Lanvallon, avocate au barreau de Lyon, et de Maître Yao Mensah-Delorme, avocat au barreau "
             "de Paris."),
    ("heading", "ÉTAT REQUÉRANT"),
    ("para", "La République de Keldavie, représentée par son ambassade à Paris, non comparante."),
    ("heading", "I. — EXPOSÉ DES FAITS ET DE LA PROCÉDURE"),
    ("para", "Le 14 novembre 2019, le tribunal municipal de Morvassa a délivré un mandat d'arrêt à "
             "l'encontre de M. Hadrien Quillon, des chefs de détournement de fonds commis en bande "
             "organisée et d'abus de pouvoir, faits prévus et réprimés par les articles 211 et 318 du "
             "code pénal keldave."),
    ("para", "Selon l'exposé des faits joint à ce mandat, M. Quillon, directeur général adjoint de la "
             "société Keldagrain de 2011 à 2018, entreprise d'exportation de céréales dont l'État keldave "
             "détenait alors 51 % du capital, aurait, entre 2014 et 2018, détourné une somme de "
             "4,2 milliards de lirans, soit environ 38 millions d'euros, au moyen de contrats de fret "
             "fictifs conclus avec des armateurs établis à Port-Quillan et dans plusieurs places "
             "financières étrangères."),
    ("para", "Le 3 février 2020, le Bureau international de coopération policière (BICP) a publié, à la "
             "demande du bureau central national de Morvassa, une notice rouge aux fins d'arrestation "
             "provisoire de l'intéressé en vue de son extradition."),
    ("para", "M. Quillon, qui réside en France depuis le mois de mars 2019 et y a fondé la société "
             "Ostrelis SAS, spécialisée dans le négoce de céréales, a été interpellé le 21 juin 2023 à "
             "l'aéroport de Lyon-Saint-Exupéry, au retour d'un voyage d'affaires, sur le fondement de "
             "cette notice. Présenté le 22 juin 2023 au procureur général, qui lui a notifié la notice, "
             "puis au premier président de la cour, il a été placé sous contrôle judiciaire, avec "
             "obligation de remettre son passeport et de se présenter chaque semaine au commissariat de "
             "police de son domicile."),
    ("para", "Par note verbale du 4 août 2023, l'ambassade de la République de Keldavie à Paris a "
             "transmis la demande formelle d'extradition, accompagnée de l'original du mandat d'arrêt, "
             "d'un exposé des faits et du texte des dispositions légales applicables, qui punissent les "
             "faits reprochés d'une peine de dix à quinze ans de privation de liberté. En l'absence de "
             "convention d'extradition entre la France et la République de Keldavie, la demande est "
             "régie par les articles 696 et suivants du code de procédure pénale."),
    ("para", "Le 19 septembre 2023, le procureur général a notifié le titre d'arrestation à M. Quillon, "
             "qui a déclaré ne pas consentir à son extradition et ne pas renoncer à la règle de la "
             "spécialité."),
    ("para", "Par arrêt avant dire droit du 14 novembre 2023, la cour a sollicité de l'État requérant, en "
             "application de l'article 696-15 du code de procédure pénale, des informations "
             "complémentaires sur les conditions de détention dans l'établissement où l'intéressé serait "
             "incarcéré, sur les garanties procédurales dont il bénéficierait et sur la situation des "
             "membres de sa famille restés en Keldavie. Par une note du 15 janvier 2024, longue d'une "
             "page, le parquet général de Morvassa a indiqué que M. Quillon « bénéficiera de toutes les "
             "garanties prévues par la loi keldave » et que les membres de sa famille « ne font l'objet "
             "d'aucune poursuite »."),
    ("para", "Par décision du 26 février 2024, la Commission de contrôle des notices du BICP, saisie par "
             "M. Quillon le 7 juillet 2023, a ordonné l'effacement de la notice rouge, estimant que la "
             "demande présentait un caractère politique prédominant."),
    ("heading", "II. — MOYENS DES PARTIES"),
    ("para", "Mme l'avocate générale a requis un avis favorable. Elle fait valoir que les faits de "
             "détournement de fonds reprochés constituent des infractions de droit commun, punissables "
             "en droit français sous les qualifications de détournement de fonds publics et d'abus de "
             "biens sociaux, de sorte que la condition de double incrimination est remplie ; que la "
             "prescription de l'action publique n'est acquise ni selon la loi keldave ni selon la loi "
             "française ; qu'il n'appartient pas à la chambre de l'instruction de se prononcer sur le "
             "bien-fondé des charges ; enfin, que l'effacement de la notice rouge est sans incidence sur "
             "la validité du mandat d'arrêt, seul titre exigé par la loi."),
    ("para", "Par mémoire régulièrement déposé le 8 mars 2024 et développé oralement à l'audience, la "
             "défense conclut à un avis défavorable. Elle soutient, en premier lieu, que l'extradition "
             "est demandée dans un but politique, au sens de l'article 696-4, 2°, du code de procédure "
             "pénale : M. Quillon a financé de 2016 à 2019 l'hebdomadaire indépendant Le Fanal, fermé "
             "par décision administrative en février 2019, et a publiquement soutenu la candidate de "
             "l'opposition, Mme Aurelia Kesh, lors de l'élection présidentielle de 2018 ; les poursuites "
             "n'ont été engagées qu'après son refus de céder ses parts de Keldagrain au Groupe Malaure, "
             "dont le président, M. Quentin Malaure, est réputé proche du chef de l'État."),
    ("para", "En deuxième lieu, la défense fait état de pressions exercées sur la famille de M. Quillon "
             "restée en Keldavie. Sa mère, Mme Odile Quillon, âgée de soixante-dix-huit ans, a été "
             "entendue à trois reprises par le Bureau de l'intégrité de l'État (BIE), service de "
             "sécurité keldave ; sa sœur, Mme Clémence Quillon, médecin anesthésiste à l'hôpital central "
             "n° 2 de Morvassa, a été suspendue de ses fonctions le 23 octobre 2023 sans motif. La "
             "défense produit les enregistrements et les transcriptions de quatre appels téléphoniques "
             "reçus par M. Quillon entre le 12 septembre et le 30 octobre 2023 : l'un de M. Quentin "
             "Malaure, deux du colonel Lucan Ardevik, officier du BIE, et un de M. Idris Kalvano, ami "
             "d'enfance de l'intéressé, qui l'a averti de l'arrestation imminente de sa mère et de sa "
             "sœur. Au cours de ces appels, il a été demandé à M. Quillon de rentrer « volontairement » "
             "en Keldavie, et le colonel Ardevik a déclaré que « le nœud va se resserrer » autour des "
             "proches restés au pays."),
    ("para", "En troisième lieu, la défense invoque le risque de torture et de traitements inhumains ou "
             "dégradants prohibés par l'article 3 de la Convention européenne de sauvegarde des droits "
             "de l'homme et des libertés fondamentales. Elle produit des rapports d'organisations non "
             "gouvernementales, dont l'Observatoire des exils, décrivant des violences systématiques à la "
             "maison d'arrêt de Sarnovo, où sont détenues les personnes poursuivies pour des infractions "
             "économiques « d'intérêt national ». Elle soutient enfin que M. Quillon ne bénéficierait "
             "pas, devant les juridictions keldaves, des garanties fondamentales de procédure et de "
             "protection des droits de la défense (article 696-4, 7°)."),
    ("heading", "III. — MOTIFS DE LA DÉCISION"),
    ("subheading", "Sur la régularité de la procédure"),
    ("para", "La demande d'extradition a été présentée par la voie diplomatique et est accompagnée des "
             "pièces exigées par l'article 696-8 du code de procédure pénale. La procédure est régulière "
             "en la forme."),
    ("subheading", "Sur la double incrimination et la prescription"),
    ("para", "Les faits, tels qu'ils sont exposés par l'État requérant, sont punissables en droit "
             "français, et la prescription n'est acquise selon aucune des deux lois. Ces conditions sont "
             "réunies."),
    ("subheading", "Sur le but politique de la demande"),
    ("para", "Aux termes de l'article 696-4, 2°, du code de procédure pénale, l'extradition n'est pas "
             "accordée lorsque le crime ou le délit a un caractère politique ou lorsqu'il résulte des "
             "circonstances que l'extradition est demandée dans un but politique."),
    ("para", "S'il n'appartient pas à la cour d'apprécier le bien-fondé des charges, il lui revient de "
             "rechercher si les circonstances de la cause révèlent un tel but. Or il ressort des pièces "
             "du dossier, et notamment de leur chronologie, que les faits reprochés, qui s'étendraient de "
             "2014 à 2018, n'ont donné lieu à aucune investigation avant le mois de mars 2019, "
             "c'est-à-dire avant la fermeture du journal Le Fanal, dont M. Quillon était le principal "
             "financeur, et avant son refus, attesté par des échanges écrits versés aux débats, de céder "
             "ses participations au Groupe Malaure. La cour relève en outre que la Commission de "
             "contrôle des notices du BICP, au terme d'une procédure contradictoire à laquelle l'État "
             "requérant a été invité à participer sans y donner suite, a estimé que la demande "
             "présentait un caractère politique prédominant."),
    ("para", "Surtout, les transcriptions produites, dont l'authenticité n'est pas contestée par le "
             "ministère public, établissent qu'entre le 12 septembre et le 30 octobre 2023, alors même "
             "que la présente procédure était pendante, M. Quillon a été sollicité à quatre reprises de "
             "rentrer en Keldavie en dehors de toute procédure légale, notamment par un officier d'un "
             "service de sécurité de l'État requérant, qui a lié ce retour au sort de sa mère et de sa "
             "sœur et lui a communiqué à cette fin un numéro de téléphone et une adresse électronique. "
             "La suspension de Mme Clémence Quillon, le 23 octobre 2023, est survenue pendant le délai "
             "que cet officier avait fixé à M. Quillon pour le rappeler."),
    ("para", "Ces éléments, précis et concordants, caractérisent une demande d'extradition qui poursuit, "
             "au-delà de la répression d'infractions de droit commun, l'objectif de contraindre au "
             "retour un opposant et de faire pression sur lui au travers de sa famille. Il résulte "
             "ainsi des circonstances que l'extradition est demandée dans un but politique."),
    ("subheading", "Sur le risque de traitements contraires à l'article 3 de la Convention"),
    ("para", "Au surplus, la note du 15 janvier 2024, qui se borne à des affirmations générales, ne "
             "répond à aucune des questions précises posées par la cour sur l'établissement de "
             "détention, l'accès d'un avocat et d'un médecin, et la possibilité d'un contrôle consulaire "
             "ou indépendant. Rapprochée des rapports concordants produits par la défense sur la maison "
             "d'arrêt de Sarnovo, elle ne permet pas d'écarter un risque réel que M. Quillon, s'il était "
             "remis, soit exposé à des traitements contraires à l'article 3 de la Convention."),
    ("para", "Il convient en conséquence d'émettre un avis défavorable à la demande d'extradition, sans "
             "qu'il soit besoin d'examiner le moyen tiré de l'article 696-4, 7°, du code de procédure "
             "pénale."),
    ("subheading", "Sur le contrôle judiciaire"),
    ("para", "L'avis défavorable de la chambre de l'instruction étant définitif en application de "
             "l'article 696-17 du code de procédure pénale, il y a lieu d'ordonner la mainlevée du "
             "contrôle judiciaire et la restitution du passeport de l'intéressé."),
    ("heading", "PAR CES MOTIFS"),
    ("para", "LA COUR, statuant publiquement et contradictoirement, après en avoir délibéré conformément "
             "à la loi, vu les articles 696 et suivants du code de procédure pénale et l'article 3 de la "
             "Convention européenne de sauvegarde des droits de l'homme et des libertés fondamentales,"),
    ("para", "DÉCLARE la procédure régulière en la forme ;"),
    ("para", "ÉMET UN AVIS DÉFAVORABLE à la demande d'extradition de M. Hadrien Émile QUILLON présentée "
             "par la République de Keldavie le 4 août 2023 ;"),
    ("para", "DIT que le présent avis est définitif ;"),
    ("para", "ORDONNE la mainlevée du contrôle judiciaire ordonné le 22 juin 2023 et la restitution à "
             "M. Quillon de son passeport n° KD4471902 ;"),
    ("para", "DIT que le présent arrêt sera notifié à la personne réclamée et à ses avocats, et transmis "
             "par les soins du procureur général au ministre de la justice."),
    ("para", "Ainsi jugé et prononcé en audience publique le 16 avril 2024 par M. Jean-Baptiste Ferréol, "
             "président, assisté de M. Hadrien Mercadier, greffier."),
    ("signature", "LE GREFFIER\nHadrien Mercadier|LE PRÉSIDENT\nJean-Baptiste Ferréol"),
]

NBSP = "\u00a0"  # Word puts no-break spaces before ; : ? ! and inside « », so the brief does too.

MEMOIRE_PART_1: list[tuple[str, str]] = [
    ("right", "Cabinet Lanvallon — Avocats\n27, quai des Mariniers — 69002 Lyon"),
    ("para", "À Monsieur le Président et Mesdames et Messieurs les Conseillers composant la chambre de "
             "l'instruction de la cour d'appel de Lyon"),
    ("title", "MÉMOIRE EN DÉFENSE"),
    ("center", "Procédure d'extradition — dossier n° 2023/01847 — audience du 12 mars 2024"),
    ("para", "POUR : M. Hadrien Émile QUILLON, né le 3 février 1971 à Morvassa (Keldavie), président de "
             "la société Ostrelis SAS, demeurant 14, rue des Tanneurs-Vieux, 69006 Lyon ; ayant pour "
             "avocats Maître Béatrice Lanvallon, avocate au barreau de Lyon, et Maître Yao "
             "Mensah-Delorme, avocat au barreau de Paris."),
    ("para", "CONTRE : la demande d'extradition présentée par la République de Keldavie (note verbale du "
             "4 août 2023)."),
    ("heading", "I. RAPPEL DES FAITS"),
    ("para", "1. Un entrepreneur devenu gênant. M. Hadrien Quillon a fait toute sa carrière dans le "
             "commerce des céréales. Entré en 2004 chez Keldagrain, il en devient directeur général "
             "adjoint en 2011 et développe le terminal céréalier de Port-Quillan, qui fait de la société "
             "le premier exportateur du pays. À partir de 2016, il finance sur ses deniers personnels "
             "l'hebdomadaire indépendant Le Fanal, seul titre national à avoir enquêté sur l'attribution "
             "des marchés portuaires."),
    ("para", "2. La rupture de 2018. Lors de l'élection présidentielle de 2018, M. Quillon soutient "
             "publiquement la candidate de l'opposition, Mme Aurelia Kesh. Quelques semaines après le "
             "scrutin, M. Quentin Malaure, président du Groupe Malaure et proche du chef de l'État, lui "
             "propose de racheter ses parts de Keldagrain à un prix que l'expertise produite (pièce n° 6) "
             "évalue au dixième de leur valeur. M. Quillon refuse."),
    ("para", "3. L'exil. En février 2019, Le Fanal est fermé par décision administrative. En mars 2019, "
             "M. Quillon quitte la Keldavie pour la France, où il fonde à Lyon la société Ostrelis SAS. "
             "Ce n'est que le 14 novembre 2019, huit mois après son départ, qu'un mandat d'arrêt est "
             "délivré contre lui, pour des faits prétendument commis entre 2014 et 2018 et qui "
             "n'avaient jusque-là suscité aucune observation des commissaires aux comptes (pièce n° 8)."),
    ("para", "4. La notice rouge et l'arrestation. La notice rouge publiée le 3 février 2020 à la demande "
             "de Morvassa a conduit à son interpellation à l'aéroport de Lyon-Saint-Exupéry le 21 juin "
             "2023. Il est depuis placé sous contrôle judiciaire. Le 7 juillet 2023, il a saisi la "
             "Commission de contrôle des notices du Bureau international de coopération policière (BICP) "
             "d'une demande d'effacement."),
    ("para", "5. Les pressions. Depuis son départ, sa mère, Mme Odile Quillon, qui vit seule dans la "
             "maison familiale de Korvaly, a été convoquée à trois reprises par le Bureau de l'intégrité "
             "de l'État. Sa sœur, Mme Clémence Quillon, médecin anesthésiste, a été suspendue de ses "
             "fonctions le 23 octobre 2023, au moment précis où un officier de ce même Bureau exigeait "
             "le retour de son frère."),
]

MEMOIRE_PART_2: list[tuple[str, str]] = [
    ("heading", "II. DISCUSSION"),
    ("subheading", "A. L'extradition est demandée dans un but politique (article 696-4, 2°, du code de "
                   "procédure pénale)"),
    ("para", "6. La chronologie parle d'elle-même : aucun des faits allégués n'a été poursuivi tant que "
             "M. Quillon se taisait ; les poursuites ont suivi, dans l'ordre, son soutien à "
             "l'opposition, son refus de céder Keldagrain au Groupe Malaure, puis son départ. L'État "
             "requérant n'a jamais répondu aux demandes de la Commission de contrôle des notices, qui a "
             "été saisie des mêmes éléments."),
    ("subheading", "B. Les appels reçus par M. Quillon révèlent le véritable objet de la demande"),
    ("para", "7. Entre le 12 septembre et le 30 octobre 2023, alors que la cour était saisie, M. Quillon "
             "a reçu quatre appels, qu'il a enregistrés et dont les transcriptions sont versées aux "
             "débats (pièces n° 14 à 17). Leur chronologie est la suivante :"),
    ("table", ""),
    ("para", "8. Ces appels ne relèvent pas de la coopération judiciaire : ils contournent la procédure "
             "dont la cour est saisie et visent à obtenir par la pression ce que l'État requérant n'est "
             "pas assuré d'obtenir par le droit. Le colonel Ardevik l'exprime sans détour : « the noose "
             "will tighten », non pas autour de M. Quillon, qui est à Lyon, mais autour de ceux qu'il a "
             "laissés au pays. Il ajoute que la rue des Tanneurs-Vieux « est très calme le soir », "
             "montrant que le domicile de M. Quillon est connu de son service."),
    ("subheading", "C. Le risque de traitements contraires à l'article 3 de la Convention européenne des "
                   "droits de l'homme"),
    ("para", "9. Les personnes poursuivies pour des infractions économiques « d'intérêt national » sont "
             "détenues à la maison d'arrêt de Sarnovo. Les rapports de l'Observatoire des exils (pièces "
             "n° 19 et 20) y décrivent des privations de sommeil, des passages à tabac et des aveux "
             "obtenus sous la contrainte. La note du parquet général de Morvassa du 15 janvier 2024, qui "
             "tient en une page, n'apporte aucune garantie individuelle."),
    ("subheading", "D. L'absence de garanties procédurales (article 696-4, 7°)"),
    ("para", "10. Les juges keldaves sont nommés pour cinq ans par le pouvoir exécutif, qui décide seul "
             "de leur renouvellement. Dans les trois procédures « d'intérêt national » jugées en 2022, "
             "les avocats de la défense n'ont eu accès au dossier que la veille de l'audience (pièce "
             "n° 21)."),
    ("heading", "PAR CES MOTIFS"),
    ("para", "Il est demandé à la chambre de l'instruction de :"),
    ("bullet", "DIRE que l'extradition de M. Hadrien Quillon est demandée dans un but politique ;"),
    ("bullet", "CONSTATER l'existence d'un risque réel de traitements contraires à l'article 3 de la "
               "Convention ;"),
    ("bullet", "ÉMETTRE un avis défavorable à la demande d'extradition ;"),
    ("bullet", "ORDONNER la mainlevée du contrôle judiciaire et la restitution du passeport."),
    ("right", "Fait à Lyon, le 8 mars 2024\nMaître Béatrice Lanvallon"),
]

CALLS_TABLE: list[tuple[str, str, str, str]] = [
    ("Date", "Appelant", "Durée", "Teneur"),
    ("12 sept. 2023", "M. Quentin Malaure, président du Groupe Malaure", "3 min 37 s",
     "Promet qu'« il ne t'arrivera rien » en cas de retour ; évoque la société Ostrelis et la santé "
     "de Mme Odile Quillon ; propose de racheter les parts d'Ostrelis."),
    ("27 sept. 2023", "Colonel Lucan Ardevik, Bureau de l'intégrité de l'État", "3 min 06 s",
     "Exige un retour « volontaire » ; cite le poste de Mme Clémence Quillon à l'hôpital central "
     "n° 2 ; « the noose will tighten » ; laisse le +33 6 39 98 42 17 et "
     "l.ardevik@integrite-etat.example."),
    ("9 oct. 2023", "M. Idris Kalvano, ami d'enfance", "2 min 22 s",
     "Avertit de l'arrestation imminente de la mère et de la sœur de M. Quillon ; le dissuade de "
     "rentrer."),
    ("30 oct. 2023", "Colonel Lucan Ardevik (second appel)", "1 min 52 s",
     "Annonce la suspension de Mme Clémence Quillon ; fixe un ultimatum au jeudi 2 novembre ; "
     "redonne le numéro et l'adresse électronique."),
]


# --------------------------------------------------------------------------------------------- PDF

def _find_font(name: str) -> str | None:
    patterns = [f"/usr/share/fonts/**/{name}", f"/usr/local/share/fonts/**/{name}",
                os.path.expanduser(f"~/.fonts/**/{name}"), f"/Library/Fonts/**/{name}",
                f"C:/Windows/Fonts/{name}"]
    for pattern in patterns:
        hits = sorted(glob.glob(pattern, recursive=True))
        if hits:
            return hits[0]
    return None


# Used only without DejaVu: fpdf2's core fonts speak latin-1.
_LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "—": "-", "’": "'", "\u00a0": " "})


class DecisionPDF(FPDF):
    running_head = "Cour d'appel de Lyon — Chambre de l'instruction — Arrêt n° 2024/0312 du 16 avril 2024"

    def __init__(self) -> None:
        super().__init__(format="A4")
        regular, bold = _find_font("DejaVuSans.ttf"), _find_font("DejaVuSans-Bold.ttf")
        if regular and bold:
            self.add_font("DejaVu", "", regular)
            self.add_font("DejaVu", "B", bold)
            self.family, self.unicode = "DejaVu", True
        else:
            print("DejaVu Sans not found: falling back to Helvetica (latin-1 only)")
            self.family, self.unicode = "Helvetica", False
        self.set_margins(22, 20, 22)
        self.set_auto_page_break(True, margin=20)

    def t(self, text: str) -> str:
        return text if self.unicode else text.translate(_LATIN1)

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(self.family, "", 7.5)
        self.cell(0, 5, self.t(self.running_head), align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.family, "", 8)
        self.cell(0, 5, f"Page {self.page_no()}/{{nb}}", align="C")


def build_pdf(path: Path = PDF_PATH) -> Path:
    pdf = DecisionPDF()
    pdf.set_title(PDF_TITLE)
    pdf.set_author("Cour d'appel de Lyon")
    pdf.set_subject("Extradition — avis de la chambre de l'instruction")
    pdf.set_creator("casevault demo corpus (vault/demo/make_binaries.py)")
    pdf.set_creation_date(dt.datetime(2024, 4, 16, 14, 0, tzinfo=dt.timezone.utc))
    pdf.add_page()
    fam = pdf.family
    for kind, text in DECISION:
        text = pdf.t(text)
        if kind == "title":
            pdf.ln(2)
            pdf.set_font(fam, "B", 14)
            pdf.multi_cell(0, 8, text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "center":
            pdf.set_font(fam, "B", 10)
            pdf.multi_cell(0, 5, text, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif kind in ("heading", "subheading"):
            pdf.ln(2 if kind == "heading" else 1)
            pdf.set_font(fam, "B", 10.5 if kind == "heading" else 9.5)
            pdf.multi_cell(0, 5.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(0.5)
        elif kind == "para":
            pdf.set_font(fam, "", 9.5)
            pdf.multi_cell(0, 5, text, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)
        elif kind == "signature":
            pdf.ln(6)
            pdf.set_font(fam, "B", 9.5)
            left, right = text.split("|")
            half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
            y = pdf.get_y()
            pdf.multi_cell(half, 5, left, align="C")
            pdf.set_xy(pdf.l_margin + half, y)
            pdf.multi_cell(half, 5, right, align="C", new_x="LMARGIN", new_y="NEXT")
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    pdf.output(str(path))
    return path


# -------------------------------------------------------------------------------------------- DOCX

def _french_spacing(text: str) -> str:
    for mark in (" ;", " :", " ?", " !", " »"):
        text = text.replace(mark, NBSP + mark[1:])
    return text.replace("« ", "«" + NBSP)


def _add_blocks(doc, blocks: list[tuple[str, str]]) -> None:
    for kind, text in blocks:
        text = _french_spacing(text)
        if kind == "title":
            p = doc.add_paragraph(style="Title")
            p.add_run(text)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif kind == "center":
            p = doc.add_paragraph()
            p.add_run(text).italic = True
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif kind == "right":
            lines = text.split("\n")
            p = doc.add_paragraph()
            for i, line in enumerate(lines):
                run = p.add_run(line)
                if i < len(lines) - 1:
                    run.add_break()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        elif kind == "heading":
            doc.add_heading(text, level=1)
        elif kind == "subheading":
            doc.add_heading(text, level=2)
        elif kind == "para":
            p = doc.add_paragraph(text)
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        elif kind == "bullet":
            doc.add_paragraph(text, style="List Bullet")
        elif kind == "table":
            _add_calls_table(doc)
        else:
            raise ValueError(f"unknown block kind {kind!r}")


def _add_calls_table(doc) -> None:
    header, *rows = CALLS_TABLE
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = _french_spacing(text)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)


def _freeze_zip(path: Path, when: tuple[int, ...] = (2024, 3, 8, 9, 0, 0)) -> None:
    """Give every entry of the archive the same timestamp, so rebuilds are byte-identical."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w") as zout:
        for info, data in entries:
            frozen = zipfile.ZipInfo(info.filename, date_time=when)
            frozen.compress_type = zipfile.ZIP_DEFLATED
            frozen.external_attr = info.external_attr
            zout.writestr(frozen, data)


def build_docx(path: Path = DOCX_PATH) -> Path:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    props = doc.core_properties
    props.title = DOCX_TITLE
    props.author = props.last_modified_by = "Béatrice Lanvallon"
    props.subject = "Chambre de l'instruction de la cour d'appel de Lyon — dossier n° 2023/01847"
    props.created = props.modified = dt.datetime(2024, 3, 8, 9, 0, tzinfo=dt.timezone.utc)
    props.revision = 1
    _add_blocks(doc, MEMOIRE_PART_1)
    doc.add_page_break()  # a hard page break: the facts on page 1, the discussion on page 2
    _add_blocks(doc, MEMOIRE_PART_2)
    doc.save(str(path))
    _freeze_zip(path)
    return path


if __name__ == "__main__":
    for built in (build_pdf(), build_docx()):
        print(f"wrote {built.relative_to(HERE.parent.parent)} ({built.stat().st_size:,} bytes)")
