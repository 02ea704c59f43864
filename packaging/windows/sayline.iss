; Inno Setup script: dist\sayline\ (from packaging\build.py) -> dist\Sayline-VERSION-windows-x64-setup.exe.
;   iscc /DAppVersion=0.1.0 packaging\windows\sayline.iss     (build.py runs this when iscc is on PATH)
; Built, installed silently (/CURRENTUSER), self-tested and uninstalled by .github/workflows/release.yml
; on a hosted Windows runner; never built on the Linux machine this project develops on.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef Root
  #define Root AddBackslash(SourcePath) + "..\.."
#endif

[Setup]
AppId={{6F1D3C52-8E0B-4C7A-9B7E-5A1D2F3C4B61}
AppName=Sayline
AppVersion={#AppVersion}
AppPublisher=Sayline
AppComments=Live, offline captions of your microphone and what the computer plays.
; Per-user mode (the default, below) turns {autopf} into {userpf}: %LOCALAPPDATA%\Programs\Sayline.
DefaultDirName={autopf}\Sayline
DisableProgramGroupPage=yes
; Per-user install by default (no admin prompt); the user may choose all users instead.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=Sayline-{#AppVersion}-windows-x64-setup
UninstallDisplayIcon={app}\sayline.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\dist\sayline\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Sayline"; Filename: "{app}\sayline.exe"; Parameters: "gui"
Name: "{autodesktop}\Sayline"; Filename: "{app}\sayline.exe"; Parameters: "gui"; Tasks: desktopicon

[Run]
Filename: "{app}\sayline.exe"; Parameters: "gui"; Description: "{cm:LaunchProgram,Sayline}"; Flags: nowait postinstall skipifsilent

; Settings, transcripts and logs in %LOCALAPPDATA%\Sayline\Sayline are the user's: uninstalling keeps them.
